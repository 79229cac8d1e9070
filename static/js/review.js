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
      if (window.CSS && CSS.highlights) CSS.highlights.delete("gold-edit");
      return;
    }
    form.hidden = false;
    form.elements.item_key.value = row.dataset.key;
    setExtent(Number(row.dataset.start), Number(row.dataset.end));
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

  // --- Gold boundaries: from a selection in the article, moved by keys -------------------

  function articleChars() {
    const container = document.getElementById("review-text");
    if (!container) return [];
    if (articleChars.text !== container.textContent) {
      articleChars.text = container.textContent;
      articleChars.list = Array.from(container.textContent);
    }
    return articleChars.list;
  }

  function isWordChar(ch) {
    return ch !== undefined && /[\p{L}\p{N}\p{M}]/u.test(ch);
  }

  function isSpace(ch) {
    return ch !== undefined && /\s/u.test(ch);
  }

  // The same steps as the coding page: a start moves between word starts, an end between
  // word ends, or either by one character.
  function stepStart(list, pos, dir, unit) {
    if (unit === "char") return Math.max(0, Math.min(list.length, pos + dir));
    let i = pos;
    if (dir < 0) {
      while (i > 0 && !isWordChar(list[i - 1])) i--;
      while (i > 0 && isWordChar(list[i - 1])) i--;
      return i;
    }
    while (i < list.length && isWordChar(list[i])) i++;
    while (i < list.length && !isWordChar(list[i])) i++;
    return i;
  }

  function stepEnd(list, pos, dir, unit) {
    if (unit === "char") return Math.max(0, Math.min(list.length, pos + dir));
    let i = pos;
    if (dir > 0) {
      while (i < list.length && !isWordChar(list[i])) i++;
      while (i < list.length && isWordChar(list[i])) i++;
      return i;
    }
    while (i > 0 && isWordChar(list[i - 1])) i--;
    while (i > 0 && !isWordChar(list[i - 1])) i--;
    return i;
  }

  function snapping() {
    const container = document.getElementById("review-text");
    return Boolean(container && container.dataset.snap === "words");
  }

  // A selection's extent as the gold span would take it: snapped to whole words when the
  // project snaps, without surrounding white space.
  function effective(start, end) {
    const list = articleChars();
    let s = Math.min(start, end);
    let e = Math.max(start, end);
    if (snapping()) {
      while (s > 0 && s < list.length && isWordChar(list[s - 1]) && isWordChar(list[s])) s--;
      while (e > 0 && e < list.length && isWordChar(list[e - 1]) && isWordChar(list[e])) e++;
    }
    while (s < e && isSpace(list[s])) s++;
    while (e > s && isSpace(list[e - 1])) e--;
    return [s, e];
  }

  function rangeOf(start, end) {
    const container = document.getElementById("review-text");
    const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
    const text = container.textContent;
    const want = [start, end].map(function (cp) {
      return Array.from(text).slice(0, cp).join("").length; // UTF-16 index
    });
    const range = document.createRange();
    let seen = 0;
    let set = 0;
    for (let node = walker.nextNode(); node && set < 2; node = walker.nextNode()) {
      const len = node.data.length;
      if (set === 0 && want[0] <= seen + len) {
        range.setStart(node, want[0] - seen);
        set = 1;
      }
      if (set === 1 && want[1] <= seen + len) {
        range.setEnd(node, want[1] - seen);
        set = 2;
      }
      seen += len;
    }
    return set === 2 ? range : null;
  }

  // In quotation marks, unless the text has its own (as domain/rendering.py's quoted).
  function quoted(text) {
    const marks = /["'“”‘’«»„‚‹›]/u;
    for (let i = 0; i < text.length; i++) {
      if (!marks.test(text[i])) continue;
      const apostrophe = /['’]/.test(text[i]) && /\p{L}/u.test(text[i - 1] || "") && /\p{L}/u.test(text[i + 1] || "");
      if (!apostrophe) return text;
    }
    return "“" + text + "”";
  }

  // Shows the edit's extent in the form and as a highlight in the article.
  function setExtent(start, end) {
    const form = toolbar();
    if (!form) return;
    const list = articleChars();
    form.elements.start.value = start;
    form.elements.end.value = end;
    form.elements.quote.value = list.slice(start, end).join("");
    const quote = form.querySelector(".edit-quote");
    const where = form.querySelector(".edit-where");
    if (quote) quote.textContent = quoted(form.elements.quote.value);
    if (where) where.textContent = "(" + start + "–" + end + ")";
    if (window.CSS && CSS.highlights) {
      CSS.highlights.delete("gold-edit");
      const details = form.querySelector("details.edit");
      const range = details && details.open ? rangeOf(start, end) : null;
      if (range && window.Highlight) CSS.highlights.set("gold-edit", new window.Highlight(range));
    }
  }

  function openEdit(focusSave) {
    const form = toolbar();
    if (!form || form.hidden) return false;
    const details = form.querySelector("details.edit");
    details.open = true;
    setExtent(Number(form.elements.start.value), Number(form.elements.end.value));
    if (focusSave) form.querySelector(".edit-submit").focus({ preventScroll: true });
    return true;
  }

  // The boundary keys are the coding page's (one table, in framing.js, which every page
  // loads; it runs after this file, so it is looked up when a key is pressed).
  function boundaryKey(key) {
    const keys = window.framingBoundaryKeys;
    return keys && Object.prototype.hasOwnProperty.call(keys, key) ? keys[key] : null;
  }

  function moveBoundary(key) {
    const row = currentRow();
    const form = toolbar();
    if (!row || !form || form.hidden) return;
    const [edge, dir, unit] = boundaryKey(key);
    const list = articleChars();
    let start = Number(form.elements.start.value);
    let end = Number(form.elements.end.value);
    if (edge === "start") start = stepStart(list, start, dir, unit);
    else end = stepEnd(list, end, dir, unit);
    if (start >= end) return;
    const details = form.querySelector("details.edit");
    details.open = true;
    setExtent(start, end);
  }

  // Words selected in the article become the current disagreement's gold boundaries.
  function useArticleSelection() {
    const container = document.getElementById("review-text");
    const sel = window.getSelection();
    if (!container || !sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    const range = sel.getRangeAt(0);
    if (!container.contains(range.startContainer) || !container.contains(range.endContainer)) {
      return null;
    }
    const before = document.createRange();
    before.setStart(container, 0);
    before.setEnd(range.startContainer, range.startOffset);
    const start = Array.from(before.toString()).length;
    const end = start + Array.from(range.toString()).length;
    const [s, e] = effective(start, end);
    return s < e ? [s, e] : null;
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
        if (row) {
          const chosen = useArticleSelection();
          if (chosen && !toolbar().hidden) setExtent(chosen[0], chosen[1]);
          openEdit(true);
        }
        break;
      }
      case "r": {
        const input = row && !toolbar().hidden && toolbar().querySelector(".rationale-input");
        if (input) input.focus();
        break;
      }
      default:
        if (boundaryKey(key)) {
          moveBoundary(key);
        } else if (row && !row.classList.contains("settled")) {
          press(toolbar(), 'button[data-key="' + key + '"]');
        }
    }
  }

  const KEYS = /^[jkaeruix1-9[\]{},.<>]$/;

  // Enter in the rationale returns to the keys; in start/end it saves the edit, instead
  // of the browser pressing the form's first button (accept coder A). Escape leaves.
  function leaveField(field, key) {
    const form = field.closest("form.settle");
    if (!form) return false;
    const row = currentRow();
    if (row) {
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

  // The open disagreement shown in the table whose mark holds a node of the article.
  function rowAt(node) {
    const element = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
    const mark = element && element.closest("#review-text .mark");
    if (!mark) return null;
    const kinds = document.getElementById("review-text").kinds || [];
    for (const index of mark.dataset.items.split(" ")) {
      if (kinds[Number(index)] === "agreed") continue;
      const row = document.querySelector('#review tr.item[data-item="' + index + '"]');
      if (row && !row.classList.contains("settled")) return row;
    }
    return null;
  }

  // After a drag over the article: the words become the current item's gold boundaries.
  document.addEventListener("mouseup", function (event) {
    if (!event.target.closest || !event.target.closest("#review-text")) return;
    window.setTimeout(function () {
      const chosen = useArticleSelection();
      if (!chosen) return;
      let form = toolbar();
      if (!currentRow() || !form || form.hidden) {
        // No open disagreement chosen: take the one the selection starts in, if shown.
        const row = rowAt(window.getSelection().getRangeAt(0).startContainer);
        if (row) select(row, false);
        form = toolbar();
        if (!row || !form || form.hidden) return; // reading, not settling
      }
      setExtent(chosen[0], chosen[1]);
      openEdit(true);
    }, 0);
  });

  document.addEventListener("click", function (event) {
    const boundary = event.target.closest("#review form.settle button[data-boundary]");
    if (boundary) {
      moveBoundary(boundary.dataset.boundary);
      return;
    }
    const step = event.target.closest(".gold-edit button[data-by]");
    if (step) step.form.elements.by.value = step.dataset.by; // read by htmx on submit
    const use = event.target.closest(".gold-edit .use-selection");
    if (use) {
      const chosen = useArticleSelection();
      if (!chosen) {
        if (window.framingFeedback) {
          window.framingFeedback.error("Select the words in the article first.");
        }
        return;
      }
      const form = use.form;
      form.elements.start.value = chosen[0];
      form.elements.end.value = chosen[1];
      form.elements.quote.disabled = false;
      form.elements.quote.value = articleChars().slice(chosen[0], chosen[1]).join("");
      form.requestSubmit();
      return;
    }
    const selection = window.getSelection();
    if (selection && !selection.isCollapsed && event.target.closest("#review-text")) return;
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

  // Opening or closing the edit shows or hides its extent in the article.
  document.addEventListener(
    "toggle",
    function (event) {
      const form = toolbar();
      if (form && event.target.closest && event.target.closest("#review form.settle details.edit")) {
        setExtent(Number(form.elements.start.value), Number(form.elements.end.value));
      }
    },
    true,
  );

  document.addEventListener("DOMContentLoaded", function () {
    buildMarks();
    syncSettled();
  });
})();
