// A button marked data-print-page opens the browser's print dialog (no inline script: the CSP forbids it).
document.querySelectorAll("[data-print-page]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
