// Keyboard shortcuts on the day and week boards. Each key follows a link the page already has, so
// the page says where a key goes: rel="prev" / rel="next" (p or k, n or j), data-key-today (t),
// data-key-week (w), data-key-day (d). Keys typed into a field, or with Ctrl, Alt or Meta (the
// browser's own shortcuts, such as Alt+ArrowLeft for back), are left alone.
(() => {
  const TARGETS = {
    p: 'a[rel="prev"]',
    k: 'a[rel="prev"]',
    n: 'a[rel="next"]',
    j: 'a[rel="next"]',
    t: "a[data-key-today]",
    w: "a[data-key-week]",
    d: "a[data-key-day]",
  };

  function typing(target) {
    return target instanceof Element && (target.isContentEditable || target.closest("input, select, textarea"));
  }

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) {
      return;
    }
    const selector = TARGETS[event.key];
    const link = selector && document.querySelector(selector);
    if (!link) {
      return;
    }
    event.preventDefault();
    window.location.assign(link.href);
  });
})();
