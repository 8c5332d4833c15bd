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
  const input = form.querySelector("input[name=q]");
  const hide = () => results.classList.add("d-none");
  // Shown only while the search box is in use and holds a query: a late answer to a request sent
  // before a click elsewhere, or to the empty query Escape leaves in a search box, stays hidden.
  const show = () => {
    if (input.value.trim() && form.contains(document.activeElement)) {
      results.classList.remove("d-none");
    } else {
      hide();
    }
  };
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
