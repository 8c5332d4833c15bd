// On a phone the day board shows one column (practitioner, room or laser) at a time beside the
// times: the chooser above the grid, its buttons or a sideways swipe pick which. Wider screens
// show every column. The choice survives the board's own refreshes (htmx swaps of #board).
(function () {
  "use strict";
  var narrow = window.matchMedia("(max-width: 575.98px)");
  var chosen = null; // the grid column number (2 is the first resource column)

  function columnOf(element) {
    var match = /(?:^|\s)db-c(\d+)(?:\s|$)/.exec(element.className);
    return match ? Number(match[1]) : null;
  }

  function apply() {
    var grid = document.querySelector(".db-grid");
    var chooser = document.getElementById("db-column");
    if (!grid || !chooser) return;
    var panel = chooser.closest("[data-column-chooser]");
    var columns = Array.prototype.map.call(chooser.options, function (o) { return Number(o.value); });
    if (chosen === null || columns.indexOf(chosen) < 0) chosen = columns[0];
    chooser.value = String(chosen);
    panel.hidden = !narrow.matches;
    grid.classList.toggle("db-one", narrow.matches);
    grid.querySelectorAll("[class*='db-c']").forEach(function (element) {
      var column = columnOf(element);
      if (column === null || column === 1) return;
      element.classList.toggle("db-hide", narrow.matches && column !== chosen);
      element.classList.toggle("db-chosen", narrow.matches && column === chosen);
    });
  }

  function step(by) {
    var chooser = document.getElementById("db-column");
    if (!chooser) return;
    var index = Math.min(Math.max(chooser.selectedIndex + by, 0), chooser.options.length - 1);
    chosen = Number(chooser.options[index].value);
    apply();
  }

  document.addEventListener("change", function (event) {
    if (event.target.id === "db-column") { chosen = Number(event.target.value); apply(); }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-column-step]");
    if (button) step(Number(button.getAttribute("data-column-step")));
  });

  var touch = null;
  document.addEventListener("touchstart", function (event) {
    if (!event.target.closest(".db-grid.db-one")) return;
    touch = { x: event.touches[0].clientX, y: event.touches[0].clientY };
  }, { passive: true });
  document.addEventListener("touchend", function (event) {
    if (!touch) return;
    var dx = event.changedTouches[0].clientX - touch.x;
    var dy = event.changedTouches[0].clientY - touch.y;
    touch = null;
    if (Math.abs(dx) > 60 && Math.abs(dx) > 2 * Math.abs(dy)) step(dx < 0 ? 1 : -1);
  });

  narrow.addEventListener("change", apply);
  document.addEventListener("htmx:afterSettle", apply);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", apply);
  else apply();
})();
