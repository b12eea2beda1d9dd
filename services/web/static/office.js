// The back office's only script beside htmx: no page needs it to work (forms post and links
// navigate without it). It moves the keyboard's focus to an error summary when one is shown, so
// a screen reader hears the problem first (GOV.UK's pattern), and shows print buttons.
(function () {
  "use strict";
  function focusSummary(root) {
    var summary = (root || document).querySelector("[data-autofocus]");
    if (summary) { summary.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () { focusSummary(document); });
  document.addEventListener("htmx:afterSwap", function (event) { focusSummary(event.target); });
  // A print button needs this script: it stays hidden where the script does not run.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  });
})();
