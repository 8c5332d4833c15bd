// On a phone the week board shows one day at a time (static/css/weekboard.css shows the cells
// marked wb-chosen). The chooser's links work without this script (each reloads the week with
// that day chosen); with it, a click only moves the mark, and the "Day" link follows the choice.
(() => {
  const board = document.getElementById("board");
  const chooser = document.querySelector(".wb-chooser");
  if (!board || !chooser) {
    return;
  }
  chooser.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-choose-day]");
    if (!link) {
      return;
    }
    event.preventDefault();
    const day = link.dataset.chooseDay;
    board.dataset.chosen = day;
    board.querySelectorAll("[data-day], [data-drop-day]").forEach((element) => {
      element.classList.toggle("wb-chosen", (element.dataset.day || element.dataset.dropDay) === day);
    });
    chooser.querySelectorAll("a[data-choose-day]").forEach((other) => {
      other.classList.toggle("active", other === link);
      if (other === link) {
        other.setAttribute("aria-current", "true");
      } else {
        other.removeAttribute("aria-current");
      }
    });
    const heading = board.querySelector(`th[data-day="${day}"] a`);
    const dayLink = document.querySelector("a[data-key-day]");
    if (heading && dayLink) {
      dayLink.setAttribute("href", heading.getAttribute("href"));
    }
    history.replaceState(null, "", link.href);
  });
})();
