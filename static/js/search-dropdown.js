// The live patient search in the navigation bar: its results close on a click elsewhere or on
// Escape, and show again when the search box is used. A file of its own, since the Content
// Security Policy allows no inline script.
(function () {
  "use strict";
  const results = document.getElementById("patient-search-results");
  if (!results) {
    return;
  }
  const form = results.closest("form");
  const hide = () => results.classList.add("d-none");
  const show = () => results.classList.remove("d-none");
  document.addEventListener("click", (event) => {
    if (!form.contains(event.target)) {
      hide();
    }
  });
  form.addEventListener("focusin", show);
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      hide();
    }
  });
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target === results) {
      show();
    }
  });
})();
