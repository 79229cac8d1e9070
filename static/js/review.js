// Framing's review page: keyboard navigation between disagreements and settling keys.
//
// j/k move between disagreements; 1–9 accept that coder lane's version, u union,
// i intersection, x reject, e edit, r rationale, a accept every agreed item. The keys
// press the buttons the server rendered, so nothing here decides what is allowed.
// The server sends one window of disagreements at a time; j/k past its edge (or a
// click on a mark outside it) asks for the neighbouring window.
// No inline handlers and no eval: the page runs under a strict CSP.
(function () {
  "use strict";

  let currentKey = null; // the current item's data-key, which survives htmx swaps
  let wanted = null; // row number to select once a requested window arrives
  let wantedItem = null; // or the item index, after a click on a mark outside the window
  // Keys pressed while a request is in flight wait for its swap to settle: htmx only
  // wires up the new forms in its settle step, and a key must act on the fresh rows.
  let busy = false;
  const waiting = [];

  function rows() {
    return Array.from(document.querySelectorAll("#review tr.item"));
  }

  // The article arrives as plain text with its items in data-marks ("start:end:kind" per
  // item, code points). Split it into one flat span per stretch between item boundaries,
  // each listing the items covering it, as the server once did: thousands of pieces cost
  // the server's templates far more than this loop costs the browser. Text only goes in
  // through text nodes, never as HTML.
  function buildMarks() {
    const container = document.getElementById("review-text");
    if (!container || !container.dataset.marks) return;
    const chars = Array.from(container.textContent); // code points, like the offsets
    const items = container.dataset.marks.split(" ").map(function (entry, index) {
      const parts = entry.split(":");
      return { index: index, start: Number(parts[0]), end: Number(parts[1]), kind: parts[2] };
    });
    // Sorted by start, then longest first: the first covering item gives the piece its kind.
    const order = items.slice().sort(function (a, b) {
      return a.start - b.start || b.end - a.end || a.index - b.index;
    });
    const cuts = new Set([0, chars.length]);
    items.forEach(function (item) { cuts.add(item.start); cuts.add(item.end); });
    const bounds = Array.from(cuts).sort(function (a, b) { return a - b; });
    const pieces = document.createDocumentFragment();
    let active = [];
    let next = 0;
    for (let b = 0; b + 1 < bounds.length; b++) {
      const left = bounds[b];
      const right = bounds[b + 1];
      active = active.filter(function (item) { return item.end > left; });
      while (next < order.length && order[next].start === left) active.push(order[next++]);
      const text = chars.slice(left, right).join("");
      if (!active.length) {
        pieces.appendChild(document.createTextNode(text));
        continue;
      }
      const mark = document.createElement("span");
      mark.className = "mark kind-" + active[0].kind;
      mark.dataset.items = active.map(function (item) { return item.index; }).join(" ");
      mark.textContent = text;
      pieces.appendChild(mark);
    }
    container.replaceChildren(pieces);
    container.kinds = items.map(function (item) { return item.kind; });
  }

  function panel() {
    return document.getElementById("review");
  }

  function windowInfo() {
    const table = document.querySelector("#review table.items");
    if (!table) return null;
    return {
      first: Number(table.dataset.first),
      last: Number(table.dataset.last),
      total: Number(table.dataset.total),
    };
  }

  // Ask the server for the window holding a row number or an item index, then select
  // that row (see the afterSwap handler).
  function fetchWindow(query, rowNumber) {
    const section = panel();
    if (!section || !window.htmx) return;
    wanted = rowNumber;
    window.htmx.ajax("GET", section.dataset.url + "?" + query, {
      source: section,
      target: section,
      swap: "outerHTML",
    });
  }

  function rowByNumber(number) {
    return rows().find(function (row) {
      const th = row.querySelector("th");
      return th && th.textContent === String(number);
    }) || null;
  }

  function currentRow() {
    if (currentKey === null) return null;
    return rows().find(function (row) { return row.dataset.key === currentKey; }) || null;
  }

  function marksOf(row) {
    return document.querySelectorAll('#review-text .mark[data-items~="' + row.dataset.item + '"]');
  }

  function toolbar() {
    return document.querySelector("#review form.settle");
  }

  // Point the one settle form at the current row: its item, its default offsets and code,
  // and only the accept buttons of coders who marked something there. Hidden for settled
  // rows. The server checks every field again.
  function fillToolbar(row) {
    const form = toolbar();
    if (!form) return;
    if (!row || row.classList.contains("settled")) {
      form.hidden = true;
      return;
    }
    form.hidden = false;
    form.elements.item_key.value = row.dataset.key;
    form.elements.start.value = row.dataset.start;
    form.elements.end.value = row.dataset.end;
    form.elements.code.value = row.dataset.code;
    form.elements.rationale.value = "";
    const present = row.dataset.present.split(" ");
    form.querySelectorAll("button[data-lane]").forEach(function (button) {
      button.disabled = present.indexOf(button.dataset.lane) === -1;
    });
    const number = row.querySelector("th");
    form.querySelector(".current-label").textContent =
      "Settle disagreement " + (number ? number.textContent : "") + " (" + row.dataset.kind + "):";
  }

  function markText(row) {
    document.querySelectorAll("#review-text .mark.current").forEach(function (m) {
      m.classList.remove("current");
    });
    if (!row) return null;
    const marks = marksOf(row);
    marks.forEach(function (m) { m.classList.add("current"); });
    return marks[0] || null;
  }

  function select(row, focus) {
    rows().forEach(function (r) {
      r.classList.remove("current");
      r.removeAttribute("aria-current");
    });
    currentKey = row ? row.dataset.key : null;
    fillToolbar(row);
    if (!row) return markText(null);
    row.classList.add("current");
    row.setAttribute("aria-current", "true");
    if (focus) row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
    const mark = markText(row);
    if (mark) mark.scrollIntoView({ block: "center" });
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const at = all.indexOf(currentRow());
    if (at !== -1 && (at + step < 0 || at + step >= all.length)) {
      // Past the window's edge: fetch the next window if there is one.
      const span = windowInfo();
      if (!span) return;
      const number = (step > 0 ? span.last : span.first) + step;
      if (number >= 1 && number <= span.total) fetchWindow("row=" + number, number);
      return;
    }
    let next;
    if (at === -1) next = step > 0 ? 0 : all.length - 1;
    else next = at + step;
    select(all[next], true);
  }

  // Marks lose their highlight once every disagreement over them is settled (the article
  // is not re-rendered; the panel lists every open disagreement in data-open).
  function syncSettled() {
    const section = panel();
    if (!section) return;
    const open = new Set(section.dataset.open ? section.dataset.open.split(" ") : []);
    document.querySelectorAll("#review-text .mark").forEach(function (m) {
      const items = m.dataset.items.split(" ");
      m.classList.toggle("settled", !items.some(function (i) { return open.has(i); }));
    });
  }

  function press(row, selector) {
    const button = row && row.querySelector(selector);
    if (button && !button.disabled) button.click();
    return Boolean(button);
  }

  function isTyping(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  function handleKey(key) {
    const row = currentRow();
    switch (key) {
      case "j":
        move(1);
        break;
      case "k":
        move(-1);
        break;
      case "a":
        press(document, "#accept-agreed");
        break;
      case "e": {
        const details = row && !toolbar().hidden && toolbar().querySelector("details.edit");
        if (details) {
          details.open = true;
          details.querySelector('input[name="start"]').focus();
        }
        break;
      }
      case "r": {
        const input = row && !toolbar().hidden && toolbar().querySelector(".rationale-input");
        if (input) input.focus();
        break;
      }
      default:
        if (row && !row.classList.contains("settled")) {
          press(toolbar(), 'button[data-key="' + key + '"]');
        }
    }
  }

  const KEYS = /^[jkaeruix1-9]$/;

  // Enter in the rationale returns to the keys; in start/end it saves the edit, instead
  // of the browser pressing the form's first button (accept coder A). Escape leaves.
  function leaveField(field, key) {
    const form = field.closest("form.settle");
    if (!form) return false;
    const row = currentRow();
    if (key === "Enter" && (field.name === "start" || field.name === "end")) {
      press(form, ".edit-submit");
    } else if (row) {
      row.focus({ preventScroll: true });
    } else {
      field.blur();
    }
    return true;
  }

  // Is a queued "r" or "e" going to put the caret in a field? Then what follows is text.
  function fieldPending() {
    let typing = false;
    waiting.forEach(function (key) {
      if (!typing && (key === "r" || key === "e")) typing = true;
      else if (typing && (key === "Enter" || key === "Escape")) typing = false;
    });
    return typing;
  }

  // Plays back a key that waited for a swap, as if it had been pressed now.
  function replay(key) {
    const field = document.activeElement;
    if (isTyping(field)) {
      if (key === "Enter" || key === "Escape") leaveField(field, key);
      else if (key === "Backspace") field.value = field.value.slice(0, -1);
      else if (key.length === 1) field.value += key;
    } else if (KEYS.test(key)) {
      handleKey(key);
    }
  }

  document.addEventListener("keydown", function (event) {
    if (!document.getElementById("review")) return;
    const target = event.target;
    if (isTyping(target)) {
      if ((event.key === "Enter" || event.key === "Escape") && leaveField(target, event.key)) {
        event.preventDefault();
      }
      return;
    }
    if (event.altKey || event.metaKey || event.ctrlKey) return;
    const text = event.key.length === 1 || /^(Enter|Escape|Backspace)$/.test(event.key);
    if (busy && (KEYS.test(event.key) || (fieldPending() && text))) {
      event.preventDefault();
      waiting.push(event.key);
      return;
    }
    if (!KEYS.test(event.key)) return;
    event.preventDefault();
    handleKey(event.key);
  });

  document.addEventListener("htmx:beforeRequest", function () {
    busy = true;
  });

  // Runs after the swap and after htmx has processed the new content.
  function settled() {
    busy = false;
    while (waiting.length && !busy) replay(waiting.shift());
  }
  document.addEventListener("htmx:afterSettle", settled);
  document.addEventListener("htmx:responseError", settled);
  document.addEventListener("htmx:sendError", settled);

  document.addEventListener("click", function (event) {
    const mark = event.target.closest("#review-text .mark");
    if (mark) {
      const kinds = document.getElementById("review-text").kinds || [];
      const first = mark.dataset.items.split(" ").find(function (i) {
        return kinds[Number(i)] !== "agreed";
      });
      if (first === undefined) return;
      const row = document.querySelector('#review tr.item[data-item="' + first + '"]');
      if (row) {
        select(row, true);
      } else {
        fetchWindow("item=" + first, null);
        wantedItem = first;
      }
      return;
    }
    const row = event.target.closest("#review tr.item");
    if (row && row.dataset.key !== currentKey) select(row, false);
  });

  // Rows carry no id on purpose: htmx's settle step would otherwise copy the old row's
  // class back for a moment and then drop the "current" class set here.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "review") return;
    syncSettled();
    let target = null;
    if (wanted !== null) target = rowByNumber(wanted);
    else if (wantedItem !== null) {
      target = document.querySelector('#review tr.item[data-item="' + wantedItem + '"]');
    }
    wanted = wantedItem = null;
    if (target) return select(target, true);
    const row = currentRow();
    fillToolbar(row);
    if (row) {
      row.classList.add("current");
      row.setAttribute("aria-current", "true");
      row.focus({ preventScroll: true });
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    buildMarks();
    syncSettled();
  });
})();
