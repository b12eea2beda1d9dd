// The back office's only script beside htmx: no page needs it to work (forms post and links
// navigate without it). It moves the keyboard's focus to an error summary when one is shown, so
// a screen reader hears the problem first (GOV.UK's pattern).
(function () {
  "use strict";
  function focusSummary(root) {
    var summary = (root || document).querySelector("[data-autofocus]");
    if (summary) { summary.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () { focusSummary(document); });
  document.addEventListener("htmx:afterSwap", function (event) { focusSummary(event.target); });
})();
