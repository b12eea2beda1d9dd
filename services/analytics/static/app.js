// The ministers' live dashboard: Arabic first, English on demand, figures pushed by the server.
//
// Staff sign in here (routing's /api/v1/staff/auth/token), or the staff portal opens the page
// as /dashboard#token=<access token>&refresh=<refresh token>. Tokens are kept in sessionStorage
// (never in a URL the server sees, never in a cookie) and sent as a bearer header; when the
// access token runs out, the refresh token (used once, rotated) gets a new pair, so a board on a
// wall stays live. The live feed is read with fetch() rather than EventSource, because
// EventSource cannot send that header. Text goes in with textContent only (no HTML from data).
// Words that come with a number (the period, the backlog's ages) and each tile's definition come
// from the server, which writes them with CLDR's plural rules and the docs' own words.
"use strict";

(function () {
  const API = "/api/v1/analytics";
  const TOKEN_KEY = "bkh.dashboard.token";
  const REFRESH_KEY = "bkh.dashboard.refresh";
  const STAFF_AUTH = "/api/v1/staff/auth";
  const LANG_KEY = "bkh.dashboard.lang";

  const WORDS = {
    ar: {
      title: "بخدمتكم — لوحة المؤشرات", connecting: "جارٍ الاتصال…",
      live: "مباشر", lost: "انقطع الاتصال، إعادة المحاولة…", expired: "انتهت الجلسة",
      signin: "سجّل الدخول بحساب الموظف، أو افتح اللوحة من بوابة الموظفين.", updated: "آخر تحديث",
      username: "اسم المستخدم", password: "كلمة المرور", sign_in: "دخول",
      received: "الطلبات المستلمة", open: "الطلبات المفتوحة", closed: "الطلبات المغلقة",
      resolved_pct: "نسبة الحل", within_deadline_pct: "الإجابة ضمن المدة", breaches: "تجاوز المدة",
      first_response_median_wd: "وسيط أول استجابة (يوم عمل)",
      resolution_median_wd: "وسيط مدة الحل (يوم عمل)", resolution_p90_wd: "المئين 90 للحل (يوم عمل)",
      satisfaction_mean: "متوسط الرضا من 5", rating_1_pct: "نسبة تقييم 1",
      escalated_level_1: "تصعيد إلى رئيس الجهة", escalated_level_2: "تصعيد إلى الوزير",
      transfers: "الإحالات", reopen_rate_pct: "نسبة إعادة الفتح", response_rate_pct: "نسبة الاستجابة",
      chased: "طلبات ذكّر بها مقدّموها",
      trend: "الطلبات يومياً", backlog: "الطلبات المفتوحة حسب العمر",
      governorates: "المحافظات", sla_by_entity: "الإجابة ضمن المدة حسب الجهة",
      ranking: "ترتيب الجهات (مؤشر الأداء)", oldest_open: "أقدم الطلبات المفتوحة",
      entity: "الجهة", index: "المؤشر", reference: "الرقم المرجعي", status: "الحالة", age_days: "العمر",
      answered: "أجيب عنها", all: "كل الجهات الحكومية",
      sectors: "القطاعات", entities: "الجهات", language: "English",
      unranked: "لا توجد بعد جهة تلقت طلبات كافية لترتيبها.",
    },
    en: {
      title: "Bekhedmetkom — indicators", connecting: "Connecting…",
      live: "Live", lost: "Connection lost, retrying…", expired: "Session ended",
      signin: "Sign in with your staff account, or open the dashboard from the staff portal.",
      updated: "Updated", username: "Username", password: "Password", sign_in: "Sign in",
      received: "Requests received", open: "Open requests", closed: "Requests closed",
      resolved_pct: "Resolved", within_deadline_pct: "Answered within deadline", breaches: "Deadlines missed",
      first_response_median_wd: "Median first response (working days)",
      resolution_median_wd: "Median resolution (working days)", resolution_p90_wd: "Resolution p90 (working days)",
      satisfaction_mean: "Mean satisfaction (of 5)", rating_1_pct: "Ratings of 1",
      escalated_level_1: "Escalated to entity head", escalated_level_2: "Escalated to minister",
      transfers: "Transfers", reopen_rate_pct: "Reopen rate", response_rate_pct: "Response rate",
      chased: "Chased by their requesters",
      trend: "Requests per day", backlog: "Open requests by age",
      governorates: "Governorates", sla_by_entity: "Answered within deadline, by entity",
      ranking: "Entity ranking (performance index)", oldest_open: "Oldest open requests",
      entity: "Entity", index: "Index", reference: "Reference", status: "Status", age_days: "Age",
      answered: "Answered", all: "All government entities",
      sectors: "Sectors", entities: "Entities", language: "العربية",
      unranked: "No entity has received enough requests to be ranked yet.",
    },
  };
  // Governorates as tiles, roughly where they lie (north at the top, west on the left).
  const GOVERNORATE_GRID = {
    "JO-IR": [1, 1], "JO-AJ": [1, 2], "JO-JA": [1, 3], "JO-MA": [1, 4],
    "JO-BA": [2, 1], "JO-AM": [2, 2], "JO-AZ": [2, 3],
    "JO-MD": [3, 1], "JO-KA": [3, 2], "JO-AT": [3, 3],
    "JO-AQ": [4, 1], "JO-MN": [4, 2],
  };

  let language = sessionStorage.getItem(LANG_KEY) === "en" ? "en" : "ar";
  let snapshot = null;
  const charts = {};

  function token() {
    const access = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
    const refresh = /(?:^#|&)refresh=([^&]+)/.exec(window.location.hash);
    if (access) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(access[1]));
      if (refresh) sessionStorage.setItem(REFRESH_KEY, decodeURIComponent(refresh[1]));
      history.replaceState(null, "", window.location.pathname);  // out of the address bar
    }
    return sessionStorage.getItem(TOKEN_KEY);
  }

  function keep(pair) {
    sessionStorage.setItem(TOKEN_KEY, pair.access_token);
    sessionStorage.setItem(REFRESH_KEY, pair.refresh_token);
    return pair.access_token;
  }

  async function staffAuth(path, body) {
    const response = await fetch(`${STAFF_AUTH}/${path}`, {
      method: "POST", headers: { "Content-Type": "application/json",
                                 "Accept-Language": language },
      body: JSON.stringify(body), cache: "no-store",
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.detail || answer.title || `HTTP ${response.status}`);
    return answer;
  }

  // A new access token from the refresh token, or null (then the person signs in again).
  async function renewed() {
    const refresh = sessionStorage.getItem(REFRESH_KEY);
    sessionStorage.removeItem(TOKEN_KEY);
    if (!refresh) return null;
    sessionStorage.removeItem(REFRESH_KEY);
    try {
      return keep(await staffAuth("refresh", { refresh_token: refresh }));
    } catch (error) {
      return null;
    }
  }

  function askToSignIn() {
    document.getElementById("board").hidden = true;
    document.getElementById("signin").hidden = false;
    setLive("expired");
  }

  const words = () => WORDS[language];
  const numbers = () => new Intl.NumberFormat(language === "ar" ? "ar-JO-u-nu-latn" : "en-GB",
                                              { maximumFractionDigits: 2 });
  const name = (row, prefix = "name") => row[`${prefix}_${language}`] || row.code || row.entity || "";

  function format(value, unit) {
    if (value === null || value === undefined) return "—";
    return numbers().format(value) + (unit || "");
  }

  function setLive(state) {
    const live = document.getElementById("live");
    live.dataset.state = state;
    live.textContent = words()[state];
  }

  function applyLanguage() {
    document.documentElement.lang = language;
    document.documentElement.dir = language === "ar" ? "rtl" : "ltr";
    document.title = words().title;
    for (const element of document.querySelectorAll("[data-i18n]")) {
      element.textContent = words()[element.dataset.i18n] || "";
    }
    const button = document.getElementById("language");
    button.textContent = words().language;
    button.lang = language === "ar" ? "en" : "ar";
    setLive(document.getElementById("live").dataset.state);
    if (snapshot) render(snapshot, false);
  }

  // Each tile takes focus (keyboard, or a tap on a phone) and shows its definition then, as on
  // hover; Escape hides it until the pointer or the focus leaves (WCAG 1.4.13).
  function prepareTiles() {
    for (const tile of document.querySelectorAll(".tile[data-kpi]")) {
      const note = document.createElement("span");
      note.className = "definition";
      note.id = `definition-${tile.dataset.kpi}`;
      note.setAttribute("role", "tooltip");
      tile.appendChild(note);
      tile.tabIndex = 0;
      tile.setAttribute("aria-describedby", note.id);
      tile.addEventListener("keydown", (event) => {
        if (event.key === "Escape") tile.classList.add("quiet");
      });
      tile.addEventListener("blur", () => tile.classList.remove("quiet"));
      tile.addEventListener("mouseleave", () => tile.classList.remove("quiet"));
    }
  }

  function renderTiles(headline, definitions, highlight) {
    for (const tile of document.querySelectorAll(".tile[data-kpi]")) {
      const definition = definitions[tile.dataset.kpi];
      tile.querySelector(".definition").textContent = definition ? definition[language] : "";
      const raw = headline[tile.dataset.kpi];
      const value = tile.querySelector(".value");
      const previous = tile.dataset.raw;
      tile.dataset.raw = raw === null || raw === undefined ? "" : String(raw);
      value.textContent = format(raw, tile.dataset.unit);
      if (highlight && previous !== undefined && previous !== tile.dataset.raw) {
        tile.classList.add("changed");
        setTimeout(() => tile.classList.remove("changed"), 1500);
      }
    }
  }

  function chart(id) {
    if (!window.echarts) return null;
    charts[id] = charts[id] || window.echarts.init(document.getElementById(id));
    return charts[id];
  }

  const textStyle = () => ({ fontFamily: "Noto Sans Arabic, sans-serif" });

  function renderTrend(trend) {
    const target = chart("trend");
    if (!target) return;
    target.setOption({
      animation: false, textStyle: textStyle(), tooltip: { trigger: "axis" },
      legend: { top: 0, data: [words().received, words().answered, words().closed] },
      grid: { left: 40, right: 40, top: 40, bottom: 30 },
      xAxis: { type: "category", data: trend.map((d) => d.day), inverse: language === "ar" },
      yAxis: { type: "value", position: language === "ar" ? "right" : "left" },
      series: [
        { name: words().received, type: "line", smooth: true, data: trend.map((d) => d.received), color: "#007a3d" },
        { name: words().answered, type: "line", smooth: true, data: trend.map((d) => d.answered), color: "#2f6fb3" },
        { name: words().closed, type: "line", smooth: true, data: trend.map((d) => d.closed), color: "#ce1126" },
      ],
    }, true);
  }

  function renderBacklog(buckets, names) {
    const target = chart("backlog");
    if (!target) return;
    const labels = names.map((n) => n[language]);
    target.setOption({
      animation: false, textStyle: textStyle(), tooltip: {},
      grid: { left: 40, right: 20, top: 20, bottom: 30 },
      xAxis: { type: "category", data: labels, inverse: language === "ar" },
      yAxis: { type: "value", position: language === "ar" ? "right" : "left" },
      series: [{ type: "bar", data: buckets.map((b) => b.count), color: "#c8a24a" }],
    }, true);
  }

  function renderSla(rows) {
    const target = chart("sla");
    if (!target) return;
    const shown = rows.filter((r) => r.within_deadline_pct !== null).slice(0, 15);
    target.setOption({
      animation: false, textStyle: textStyle(), tooltip: {},
      grid: { left: language === "ar" ? 40 : 170, right: language === "ar" ? 170 : 40, top: 10, bottom: 30 },
      xAxis: { type: "value", max: 100, inverse: language === "ar" },
      yAxis: { type: "category", data: shown.map((r) => name(r)), position: language === "ar" ? "right" : "left" },
      series: [{ type: "bar", data: shown.map((r) => r.within_deadline_pct), color: "#007a3d",
                 label: { show: true, formatter: "{c}%" } }],
    }, true);
  }

  function cell(row, text, numeric) {
    const td = document.createElement("td");
    td.textContent = text;
    if (numeric) td.className = "num";
    row.appendChild(td);
  }

  function renderGovernorates(governorates) {
    const map = document.getElementById("governorates");
    map.replaceChildren();
    const most = Math.max(1, ...governorates.map((g) => g.received));
    for (const g of governorates) {
      const tile = document.createElement("div");
      tile.className = "gov";
      tile.dataset.governorate = g.code;
      const [row, column] = GOVERNORATE_GRID[g.code] || [5, 1];
      tile.style.gridRow = String(row);
      tile.style.gridColumn = String(column);
      tile.style.background = `rgba(0, 122, 61, ${0.35 + 0.65 * (g.received / most)})`;
      const label = document.createElement("span");
      label.textContent = name(g);
      const value = document.createElement("strong");
      value.textContent = format(g.received);
      tile.append(label, value);
      map.appendChild(tile);
    }
  }

  function renderRanking(entities) {
    const body = document.querySelector("#ranking tbody");
    body.replaceChildren();
    const ranked = entities.filter((e) => e.rank !== null).slice(0, 10);
    if (!ranked.length) {
      const row = document.createElement("tr");
      const td = document.createElement("td");
      td.colSpan = 4;
      td.className = "muted";
      td.textContent = words().unranked;
      row.appendChild(td);
      body.appendChild(row);
    }
    for (const r of ranked) {
      const row = document.createElement("tr");
      cell(row, String(r.rank), true);
      cell(row, name(r));
      cell(row, format(r.index), true);
      cell(row, format(r.within_deadline_pct, "%"), true);
      body.appendChild(row);
    }
  }

  function renderOldest(rows, labels) {
    const body = document.querySelector("#oldest tbody");
    body.replaceChildren();
    for (const r of rows) {
      const row = document.createElement("tr");
      cell(row, r.reference, true);
      cell(row, r[`entity_name_${language}`] || r.entity || "—");
      const status = labels.status[r.status];
      cell(row, status ? status[language === "ar" ? 0 : 1] : r.status);
      cell(row, r.age[language]);
      body.appendChild(row);
    }
  }

  function renderScope(scope, period) {
    document.getElementById("period").textContent = period[language];
    const element = document.getElementById("scope");
    if (scope.everything) element.textContent = words().all;
    else element.textContent = [...scope.sectors, ...scope.entities].map((s) => name(s))
      .join(language === "ar" ? "، " : ", ");
  }

  function render(data, highlight) {
    snapshot = data;
    document.getElementById("signin").hidden = true;
    document.getElementById("board").hidden = false;
    renderScope(data.scope, data.labels.period);
    renderTiles(data.headline, data.labels.definitions, highlight);
    renderTrend(data.trend);
    renderBacklog(data.headline.backlog_by_age, data.labels.backlog);
    renderSla(data.sla_by_entity);
    renderGovernorates(data.governorates);
    renderRanking(data.ranking.entities);
    renderOldest(data.oldest_open, data.labels);
    const at = new Date(data.headline.as_of);
    document.getElementById("updated").textContent =
      `${words().updated} ${at.toLocaleTimeString(language === "ar" ? "ar-JO-u-nu-latn" : "en-GB",
                                                    { timeZone: "Asia/Amman" })}`;
    document.body.dataset.eventsApplied = String(data.headline.events_applied);
  }

  // Server-sent events over fetch: "event: <name>\ndata: <json>\n\n" blocks. Reads one stream
  // to its end; true when the server said the token has expired.
  async function read(response) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    while (true) {
      const { value, done } = await reader.read();
      if (done) return false;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block);
        const data = /^data: (.*)$/m.exec(block);
        if (!event || !data) continue;  // a keep-alive comment
        if (event[1] === "dashboard") render(JSON.parse(data[1]), true);
        if (event[1] === "expired") return true;
      }
    }
  }

  async function follow(bearer) {
    while (true) {
      let expired = false;
      try {
        const response = await fetch(`${API}/live`, {
          headers: { Authorization: `Bearer ${bearer}`, Accept: "text/event-stream" },
          cache: "no-store",
        });
        if (response.status === 401) expired = true;
        else if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        else {
          setLive("live");
          expired = await read(response);
        }
      } catch (error) {
        // the connection failed: retried below
      }
      if (expired) {
        bearer = await renewed();
        if (!bearer) { askToSignIn(); return; }
        continue;
      }
      setLive("lost");
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
  }

  function start() {
    prepareTiles();
    document.getElementById("language").addEventListener("click", () => {
      language = language === "ar" ? "en" : "ar";
      sessionStorage.setItem(LANG_KEY, language);
      applyLanguage();
    });
    window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
    document.getElementById("signin-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = event.currentTarget;
      const problem = document.getElementById("signin-error");
      problem.hidden = true;
      try {
        const bearer = keep(await staffAuth("token", {
          username: form.elements.username.value, password: form.elements.password.value }));
        form.reset();
        document.getElementById("signin").hidden = true;
        setLive("connecting");
        follow(bearer);
      } catch (error) {
        problem.textContent = error.message;
        problem.hidden = false;
      }
    });
    applyLanguage();
    const bearer = token();
    if (!bearer) { askToSignIn(); return; }
    follow(bearer);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
