// Moving cards on the boards (day and week) by mouse and by keyboard, and the boards' live refresh.
//
// No booking rule lives here: a drop posts the move to the server
// (scheduling:appointment_move), whose reschedule service decides, and this script shows the answer.
// What the templates give it: a card that can move carries data-appointment and data-time (its
// local start, HH:MM); templates/scheduling/_board_dnd.html gives #board-status, with the move URL
// and the CSRF token; a day cell data-drop-start (YYYY-MM-DDTHH:MM), a week cell
// data-drop-day (YYYY-MM-DD, the card keeps its clock time), each with one of
// data-drop-practitioner, data-drop-room or data-drop-device; the grid's wrapper is #board, and
// #board-poll inside it asks every few seconds whether the board changed (htmx, hx-swap none).
(() => {
  "use strict";

  const CARD = "[data-appointment]";
  const TARGET = "[data-drop-start], [data-drop-day]";
  const RESOURCES = ["practitioner", "room", "device"];
  const ARROWS = ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"];

  let held = null; // the card picked up: {card, pk, name, time, marker, keyboard}
  let busy = false; // a move is on its way: the poll waits for its answer
  let refusal = null; // {pk, message}: shown on the card again when the board is fetched anew
  let offered = null; // {url, data}: a move the short-prep or sun rule refused, offered again acknowledged
  const ACKNOWLEDGEABLE = ["acknowledge_short_prep", "acknowledge_sun_exposure"];

  const board = () => document.getElementById("board");
  const onBoard = (element) => Boolean(element && board() && board().contains(element));

  const status = () => document.getElementById("board-status");

  function csrfToken() {
    if (status() && status().dataset.csrf) return status().dataset.csrf;
    const cookie = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return cookie ? decodeURIComponent(cookie[1]) : "";
  }

  // The move URL of any card, written with the id 0 (the template reverses it), with this one's id.
  function moveUrl(card) {
    const template = status() ? status().dataset.moveUrl : "";
    return template.replace("/0/", `/${card.dataset.appointment}/`);
  }

  // The live region: what was picked up, where the marker is, what the server answered.
  function say(text, tone) {
    const region = status();
    if (!region) return;
    region.textContent = text;
    region.className = tone ? `alert alert-${tone} py-2` : "";
  }

  function targets() {
    return board() ? Array.from(board().querySelectorAll(TARGET)) : [];
  }

  // The cell at a point of the screen, also one under a card (the cards cover their cells).
  function targetAt(x, y) {
    for (const element of document.elementsFromPoint(x, y)) {
      const cell = element.closest(TARGET);
      if (onBoard(cell)) return cell;
    }
    return null;
  }

  function cellOf(card) {
    const own = card.closest(TARGET);
    if (onBoard(own)) return own;
    const box = card.getBoundingClientRect();
    return targetAt(box.left + box.width / 2, box.top + 4);
  }

  // The next cell in an arrow's direction on the screen: the same column for up and down (a
  // quarter hour on the day board), the same row for left and right. By geometry, so the day and
  // the week grid are walked alike.
  function neighbour(from, key) {
    const a = from.getBoundingClientRect();
    const ax = a.left + a.width / 2;
    const ay = a.top + a.height / 2;
    const vertical = key === "ArrowUp" || key === "ArrowDown";
    let best = null;
    let nearest = Infinity;
    for (const cell of targets()) {
      const b = cell.getBoundingClientRect();
      if (cell === from || b.width === 0 || (vertical ? !(b.left < ax && ax < b.right) : !(b.top < ay && ay < b.bottom))) continue;
      const bx = b.left + b.width / 2;
      const by = b.top + b.height / 2;
      const distance = { ArrowUp: ay - by, ArrowDown: by - ay, ArrowLeft: ax - bx, ArrowRight: bx - ax }[key];
      if (distance > 0 && distance < nearest) {
        best = cell;
        nearest = distance;
      }
    }
    return best;
  }

  function columnName(cell) {
    if (cell.dataset.dropLabel) return cell.dataset.dropLabel;
    const box = cell.getBoundingClientRect();
    const x = box.left + box.width / 2;
    const head = Array.from(board().querySelectorAll(".db-head")).find((h) => {
      const r = h.getBoundingClientRect();
      return r.left <= x && x < r.right;
    });
    return head ? head.textContent.trim() : "";
  }

  function describe(cell) {
    let when = cell.dataset.dropStart ? cell.dataset.dropStart.slice(11) : "";
    if (cell.dataset.dropDay) {
      const day = new Date(`${cell.dataset.dropDay}T12:00`);
      when = day.toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short" });
    }
    return `${when} ${columnName(cell)}`.trim();
  }

  function mark(cell) {
    if (held.marker) held.marker.classList.remove("db-drop-marker");
    held.marker = cell;
    if (cell) cell.classList.add("db-drop-marker");
  }

  function pickUp(card, keyboard) {
    clearRefusal();
    hideOffer();
    const name = card.querySelector("strong");
    held = {
      card,
      pk: card.dataset.appointment,
      name: name ? name.textContent.trim() : "the appointment",
      time: card.dataset.time,
      marker: null,
      keyboard,
    };
    card.classList.add("db-picked");
    if (keyboard) {
      mark(cellOf(card) || targets()[0] || null);
      say(`Picked up ${held.name} ${held.time}. Arrows to move, Enter to drop, Escape to cancel.`, "info");
    }
  }

  function putDown() {
    if (!held) return;
    held.card.classList.remove("db-picked");
    if (held.marker) held.marker.classList.remove("db-drop-marker");
    held = null;
  }

  function placeOf(cell, time) {
    const data = new URLSearchParams();
    data.set("start", cell.dataset.dropStart || `${cell.dataset.dropDay}T${time}`);
    for (const name of RESOURCES) {
      const value = cell.dataset[`drop${name[0].toUpperCase()}${name.slice(1)}`];
      if (value) data.set(name, value);
    }
    return data;
  }

  async function answerOf(response) {
    if ((response.headers.get("Content-Type") || "").includes("application/json")) return response.json();
    if (response.redirected) return { ok: false, message: "You were logged out: reload the page and log in again." };
    if (response.status === 403) {
      return { ok: false, message: "Not moved: your role cannot move appointments, or the page is out of date (reload it)." };
    }
    return { ok: false, message: `Not moved: the server answered ${response.status}. Nothing was changed.` };
  }

  async function send(url, pk, data, keyboard) {
    busy = true;
    clearRefusal();
    hideOffer();
    let answer;
    try {
      const response = await fetch(url, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        signal: AbortSignal.timeout(30000), // the poll waits for the answer: not for ever
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      });
      answer = await answerOf(response);
    } catch (error) {
      answer = { ok: false, message: "Not moved: the clinic's server could not be reached. Nothing was changed." };
    }
    busy = false;
    if (answer.ok && answer.moved) {
      say(answer.message, "success");
      await refresh();
      if (keyboard) focusCard(pk);
    } else if (answer.ok) {
      say(answer.message, "secondary");
    } else {
      refusal = { pk, message: answer.message };
      showRefusal();
      say(answer.message, "danger");
      if (ACKNOWLEDGEABLE.includes(answer.field)) offer(url, pk, data, keyboard, answer.field);
    }
  }

  function showRefusal() {
    const card = refusal && board() && board().querySelector(`[data-appointment="${refusal.pk}"]`);
    if (!card) return;
    card.classList.add("db-refused");
    let note = card.querySelector(".db-refusal");
    if (!note) {
      note = document.createElement("span");
      note.className = "db-refusal";
      card.append(note);
    }
    note.textContent = refusal.message;
  }

  function clearRefusal() {
    refusal = null;
    document.querySelectorAll(".db-refused").forEach((card) => {
      card.classList.remove("db-refused");
      const note = card.querySelector(".db-refusal");
      if (note) note.remove();
    });
  }

  // The move again with this acknowledgement too (one given already stays: a move can need both).
  function offer(url, pk, data, keyboard, field) {
    const box = document.getElementById("board-offer");
    if (!box) return;
    const again = new URLSearchParams(data);
    again.set(field, "on");
    offered = { url, pk, data: again, keyboard };
    box.querySelectorAll("[data-move-anyway]").forEach((button) => {
      button.hidden = button.dataset.moveAnyway !== field;
    });
    box.hidden = false;
  }

  function hideOffer() {
    offered = null;
    const box = document.getElementById("board-offer");
    if (box) box.hidden = true;
  }

  function focusCard(pk) {
    const card = board() && board().querySelector(`[data-appointment="${pk}"]`);
    if (card) card.focus();
  }

  // Fetch the board again without reloading the page; keep the focus on the card that had it.
  function refresh() {
    if (!window.htmx || !board()) return Promise.resolve();
    const focused = document.activeElement;
    const pk = focused && onBoard(focused) && focused.dataset.appointment;
    return htmx.ajax("GET", window.location.href, { target: "#board", select: "#board", swap: "outerHTML" }).then(() => {
      showRefusal();
      if (pk) focusCard(pk);
    });
  }

  // Mouse (and touch screens that speak the HTML drag and drop API).
  document.addEventListener("dragstart", (event) => {
    const card = event.target.closest && event.target.closest(CARD);
    if (!onBoard(card)) return;
    putDown();
    pickUp(card, false);
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.appointment);
  });

  function dropTarget(event) {
    const own = event.target.closest && event.target.closest(TARGET);
    return onBoard(own) ? own : targetAt(event.clientX, event.clientY);
  }

  document.addEventListener("dragover", (event) => {
    if (!held || held.keyboard) return;
    const cell = dropTarget(event);
    mark(cell);
    if (!cell) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
  });

  document.addEventListener("drop", (event) => {
    if (!held || held.keyboard) return;
    const cell = dropTarget(event);
    if (!cell) return;
    event.preventDefault();
    const { card, pk, time } = held;
    putDown();
    send(moveUrl(card), pk, placeOf(cell, time), false);
  });

  document.addEventListener("dragend", () => {
    if (held && !held.keyboard) putDown();
  });

  // Keyboard: M picks the focused card up (Enter still opens it), arrows move the marker, Enter
  // drops, Escape puts it back.
  document.addEventListener("keydown", (event) => {
    if (held && held.keyboard) {
      if (ARROWS.includes(event.key)) {
        event.preventDefault();
        const next = neighbour(held.marker || cellOf(held.card), event.key);
        if (next) {
          mark(next);
          next.scrollIntoView({ block: "nearest", inline: "nearest" });
          say(`${describe(next)}. Enter to drop, Escape to cancel.`, "info");
        }
      } else if (event.key === "Enter") {
        event.preventDefault();
        const { card, pk, time, marker } = held;
        putDown();
        if (marker) send(moveUrl(card), pk, placeOf(marker, time), true);
      } else if (event.key === "Escape") {
        event.preventDefault();
        const { name } = held;
        putDown();
        say(`${name} stays where it was: nothing was moved.`, "secondary");
      }
      return;
    }
    if (event.key.toLowerCase() !== "m" || event.ctrlKey || event.metaKey || event.altKey) return;
    const card = event.target.closest && event.target.closest(CARD);
    if (!onBoard(card)) return;
    event.preventDefault();
    pickUp(card, true);
  });

  // Leaving the card (Tab, a click elsewhere) puts it back.
  document.addEventListener("focusout", (event) => {
    if (held && held.keyboard && event.target === held.card) {
      putDown();
      say("Put back: nothing was moved.", "secondary");
    }
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("[data-move-anyway]");
    if (!button || !offered) return;
    const { url, pk, data, keyboard } = offered;
    send(url, pk, data, keyboard);
  });

  // Live refresh. The poll is held while a card is picked up or on its way, and while the tab is
  // hidden; the tab coming back asks at once.
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (event.target.id === "board-poll" && (held || busy || document.hidden)) event.preventDefault();
  });

  document.addEventListener("board-changed", () => {
    if (!held && !busy) refresh();
  });

  document.addEventListener("htmx:afterRequest", (event) => {
    // The poll was sent to the login page: the session ended. Show that page.
    const xhr = event.detail.xhr;
    if (event.target.id !== "board-poll" || !xhr || !xhr.responseURL) return;
    const asked = new URL(event.target.getAttribute("hx-get"), window.location.href).pathname;
    if (new URL(xhr.responseURL).pathname !== asked) window.location.reload();
  });

  document.addEventListener("visibilitychange", () => {
    const poll = document.getElementById("board-poll");
    if (!document.hidden && poll && window.htmx) htmx.trigger(poll, "board-check");
  });
})();
