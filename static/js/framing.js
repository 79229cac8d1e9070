// Framing's coding screen: turn a selection (mouse or keyboard) into code-point offsets.
//
// Browsers count string positions in UTF-16 code units; the server (Python) counts code
// points. Every offset sent to the server is converted here, and the server re-checks it
// against the quote, so an emoji or a Khmer cluster can never shift a span.
//
// After a span write the server sends only what changed (pieces of the text, entries of
// the span list, the inspector's blocks) as out-of-band swaps; the page sends back the
// state token it was drawn with, and gets the whole workspace when it is behind.
//
// Promises this file keeps (each has a browser test):
// - nothing scrolls the page unless the person asked to move (a key that moves the caret,
//   a click on an entry of the span list); saving, tagging, deleting and opening a span
//   keep the page exactly where it was;
// - the inspector shows what was clicked last (requests on the workspace are queued, the
//   last one wins, and a click never scrolls before it lands);
// - the codebook never takes the selection or the focus;
// - with "snap to words" on, the selection shown is the one that will be tagged.
(function () {
  "use strict";

  const state = {
    caret: null, // code-point offset of the keyboard caret
    anchor: null, // where a keyboard (or snapped mouse) selection started, or null
    goalX: null, // the x that consecutive ↑/↓ presses keep to
    pending: null, // the last selection made in the text: {start, end} in code points
    refocus: false, // give the text its focus back after the next workspace swap
    reveal: false, // the next swap should show the selected span (the person asked to go there)
    inspecting: false, // the next swap answers a click that opens spans in the inspector
    widened: false, // the selection shown was widened to whole words (said in the preview)
    tagging: false, // a code key was pressed: mark when its highlight is drawn
  };

  function container() {
    return document.getElementById("doc-text");
  }

  function workspace() {
    return document.getElementById("workspace");
  }

  function snapping() {
    const root = container();
    return Boolean(root && root.dataset.snap === "words");
  }

  // --- Offsets -----------------------------------------------------------------------

  // Code points before a UTF-16 index of text.
  function toCodePoints(text, utf16) {
    let count = 0;
    for (let i = 0; i < utf16; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < utf16) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) i++;
      }
      count++;
    }
    return count;
  }

  // UTF-16 index of a code-point offset.
  function toUtf16(text, codePoints) {
    let i = 0;
    for (let n = 0; n < codePoints && i < text.length; n++) {
      const c = text.charCodeAt(i);
      i += c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
    }
    return i;
  }

  // UTF-16 offset of a DOM position inside the container (a Range from its start).
  function utf16Offset(root, node, offset) {
    const range = document.createRange();
    range.setStart(root, 0);
    range.setEnd(node, offset);
    return range.toString().length;
  }

  // The DOM position (text node, offset) of a UTF-16 offset inside the container.
  function domPosition(root, utf16) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let seen = 0;
    let node = walker.nextNode();
    let last = null;
    while (node) {
      const len = node.data.length;
      if (utf16 <= seen + len) return { node: node, offset: utf16 - seen };
      seen += len;
      last = node;
      node = walker.nextNode();
    }
    return last ? { node: last, offset: last.data.length } : { node: root, offset: 0 };
  }

  function positionOf(codePoints) {
    const root = container();
    return domPosition(root, toUtf16(root.textContent, codePoints));
  }

  function offsetOf(node, offset) {
    const root = container();
    return toCodePoints(root.textContent, utf16Offset(root, node, offset));
  }

  // The current selection inside the text as code-point offsets, or null.
  function selectionOffsets() {
    const root = container();
    const sel = window.getSelection();
    if (!root || !sel || sel.rangeCount === 0) return null;
    const range = sel.getRangeAt(0);
    if (!root.contains(range.startContainer) || !root.contains(range.endContainer)) return null;
    const text = root.textContent;
    const a = utf16Offset(root, range.startContainer, range.startOffset);
    const b = utf16Offset(root, range.endContainer, range.endOffset);
    return {
      start: toCodePoints(text, a),
      end: toCodePoints(text, b),
      quote: text.slice(a, b),
      collapsed: a === b,
    };
  }

  // --- Words, sentences, snapping (code points; mirrored by domain/offsets.py) --------

  let cache = { text: null, chars: [], lower: [], sentences: null };

  function chars() {
    const text = container().textContent;
    if (cache.text !== text) {
      const list = Array.from(text);
      cache = {
        text: text,
        chars: list,
        lower: list.map(function (c) { return c.toLowerCase(); }),
        sentences: null,
      };
    }
    return cache.chars;
  }

  function isWordChar(ch) {
    return ch !== undefined && /[\p{L}\p{N}\p{M}]/u.test(ch);
  }

  function isSpace(ch) {
    return ch !== undefined && /\s/u.test(ch);
  }

  // Next word boundary, like the server's word_step: to the end of the next word (+1) or
  // the start of the previous one (-1).
  function wordStep(list, pos, dir) {
    let i = pos;
    if (dir > 0) {
      while (i < list.length && !isWordChar(list[i])) i++;
      while (i < list.length && isWordChar(list[i])) i++;
    } else {
      while (i > 0 && !isWordChar(list[i - 1])) i--;
      while (i > 0 && isWordChar(list[i - 1])) i--;
    }
    return i;
  }

  // A selection's start moves between word starts, its end between word ends.
  function startStep(list, pos, dir) {
    if (dir < 0) return wordStep(list, pos, -1);
    let i = pos;
    while (i < list.length && isWordChar(list[i])) i++;
    while (i < list.length && !isWordChar(list[i])) i++;
    return i;
  }

  function endStep(list, pos, dir) {
    if (dir > 0) return wordStep(list, pos, 1);
    let i = pos;
    while (i > 0 && isWordChar(list[i - 1])) i--;
    while (i > 0 && !isWordChar(list[i - 1])) i--;
    return i;
  }

  function snap(list, start, end) {
    let s = start;
    let e = end;
    while (s > 0 && s < list.length && isWordChar(list[s - 1]) && isWordChar(list[s])) s--;
    while (e > 0 && e < list.length && isWordChar(list[e - 1]) && isWordChar(list[e])) e++;
    return [s, e];
  }

  // What would be tagged for a selection from a to b: ordered, snapped to whole words when
  // the project asks for it, without surrounding white space (the server trims it too).
  function effective(a, b) {
    const list = chars();
    let s = Math.min(a, b);
    let e = Math.max(a, b);
    if (snapping() && s !== e) [s, e] = snap(list, s, e);
    while (s < e && isSpace(list[s])) s++;
    while (e > s && isSpace(list[e - 1])) e--;
    return [s, e];
  }

  const CLOSERS = /["'”’»)\]]/u;
  const TERMINALS = /[.!?…]/u;

  function isLower(ch) {
    return ch !== undefined && ch.toLowerCase() === ch && ch.toUpperCase() !== ch;
  }

  // Where the sentence whose terminal punctuation is at i ends (past closing quotes,
  // brackets and footnote markers such as [3]), or -1 when it goes on: the end must be
  // followed by white space and then by no lower-case letter ("U.S. based" goes on).
  function sentenceEndAfter(list, i) {
    const n = list.length;
    let j = i + 1;
    for (;;) {
      if (j < n && (CLOSERS.test(list[j]) || TERMINALS.test(list[j]))) {
        j++;
      } else if (list[j] === "[") {
        let k = j + 1;
        while (k < n && /[0-9]/.test(list[k])) k++;
        if (k > j + 1 && list[k] === "]") j = k + 1;
        else break;
      } else {
        break;
      }
    }
    if (j >= n) return n;
    let k = j;
    while (k < n && list[k] !== "\n" && isSpace(list[k])) k++;
    if (k === j && list[k] !== "\n") return -1;
    return isLower(list[k]) ? -1 : j;
  }

  // Sentence starts and ends (code points): a sentence ends as sentenceEndAfter says, or
  // at a line break. The page's Ctrl+↑/↓ keys move between them.
  function sentences() {
    const list = chars();
    if (cache.sentences) return cache.sentences;
    const starts = [];
    const ends = [];
    const n = list.length;
    let i = 0;
    while (i < n && isSpace(list[i])) i++;
    if (i < n) starts.push(i);
    while (i < n) {
      let end = -1;
      if (list[i] === "\n") end = i;
      else if (TERMINALS.test(list[i])) end = sentenceEndAfter(list, i);
      if (end === -1) {
        i++;
        continue;
      }
      let e = end;
      while (e > 0 && isSpace(list[e - 1])) e--;
      if (e > 0 && (!ends.length || ends[ends.length - 1] !== e)) ends.push(e);
      let s = end;
      while (s < n && isSpace(list[s])) s++;
      if (s < n && starts[starts.length - 1] !== s) starts.push(s);
      i = Math.max(s, end + 1);
    }
    let last = n;
    while (last > 0 && isSpace(list[last - 1])) last--;
    if (last > 0 && (!ends.length || ends[ends.length - 1] < last)) ends.push(last);
    cache.sentences = { starts: starts, ends: ends };
    return cache.sentences;
  }

  function nextIn(list, pos) {
    for (let i = 0; i < list.length; i++) if (list[i] > pos) return list[i];
    return null;
  }

  function previousIn(list, pos) {
    for (let i = list.length - 1; i >= 0; i--) if (list[i] < pos) return list[i];
    return null;
  }

  // --- Drawing the caret and the selection ---------------------------------------------

  function caretRect(offset) {
    const pos = positionOf(offset);
    const range = document.createRange();
    range.setStart(pos.node, pos.offset);
    range.collapse(true);
    const rects = range.getClientRects();
    return rects[0] || range.getBoundingClientRect();
  }

  // Draws the keyboard caret (a blinking bar). It never scrolls: see revealCaret.
  function drawCaret() {
    const root = container();
    let caret = document.getElementById("caret");
    if (!root || state.caret === null || document.activeElement !== root) {
      if (caret) caret.remove();
      return;
    }
    const rect = caretRect(state.caret);
    if (!caret) {
      caret = document.createElement("span");
      caret.id = "caret";
      caret.setAttribute("aria-hidden", "true");
      document.body.appendChild(caret);
    }
    caret.style.left = rect.left + window.scrollX + "px";
    caret.style.top = rect.top + window.scrollY + "px";
    caret.style.height = (rect.height || 20) + "px";
  }

  // Brings the caret on screen, for keys that move it (the person asked to move).
  function revealCaret() {
    if (state.caret === null) return;
    const rect = caretRect(state.caret);
    const region = document.getElementById("feedback");
    const covered = region ? Math.max(0, window.innerHeight - region.getBoundingClientRect().top) : 0;
    const bottom = window.innerHeight - Math.min(covered, window.innerHeight / 3) - 24;
    if (rect.top < 24) window.scrollBy(0, rect.top - 24);
    else if (rect.bottom > bottom) window.scrollBy(0, rect.bottom - bottom);
  }

  function setSelection(anchor, caret) {
    const a = positionOf(anchor);
    const c = positionOf(caret);
    window.getSelection().setBaseAndExtent(a.node, a.offset, c.node, c.offset);
  }

  // Makes the keyboard's selection the one shown (snapped, trimmed), so that the next key
  // moves from what the person sees: after find and after a mouse selection.
  function settleSelection() {
    if (state.anchor === null) return;
    const low = Math.min(state.anchor, state.caret);
    const high = Math.max(state.anchor, state.caret);
    const [s, e] = effective(low, high);
    if (s >= e) return;
    state.widened = snapping() && (s < low || e > high);
    const backwards = state.anchor > state.caret;
    state.anchor = backwards ? e : s;
    state.caret = backwards ? s : e;
  }

  // Shows the keyboard selection (snapped, when the project snaps) and the caret.
  function showSelection() {
    if (state.anchor === null || state.anchor === state.caret) {
      setSelection(state.caret, state.caret);
    } else {
      const [s, e] = effective(state.anchor, state.caret);
      if (s === e) setSelection(state.caret, state.caret);
      else if (state.anchor <= state.caret) setSelection(s, e);
      else setSelection(e, s);
    }
    drawCaret();
    describeSelection();
  }

  // The codebook panel says what a code key would tag now.
  function describeSelection() {
    const box = document.getElementById("selection-preview");
    if (!box) return;
    const sel = currentSelection();
    if (!sel) {
      box.hidden = true;
      box.textContent = "";
      return;
    }
    const quote = chars().slice(sel.start, sel.end).join("");
    const shown = quote.length > 120 ? quote.slice(0, 80) + " … " + quote.slice(-30) : quote;
    box.hidden = false;
    box.textContent = "";
    const label = document.createElement("strong");
    label.textContent = "To tag: ";
    const text = document.createElement("span");
    text.className = "preview-quote";
    text.textContent = shown;
    box.append(label, text);
    if (sel.snapped) {
      const note = document.createElement("span");
      note.className = "muted";
      note.textContent = " (widened to whole words)";
      box.appendChild(note);
    }
  }

  // --- The selection a code key tags ----------------------------------------------------

  // The selection in the text, else the one made there last (focus may have gone to the
  // codebook), as code points after snapping and trimming; null when there is none.
  function currentSelection() {
    const root = container();
    if (!root) return null;
    const sel = selectionOffsets();
    let raw = null;
    if (sel && !sel.collapsed) {
      raw = ownSelection(sel) || { start: sel.start, end: sel.end };
    } else if (!sel && state.pending) {
      raw = state.pending;
    }
    if (!raw) return null;
    const [s, e] = effective(raw.start, raw.end);
    if (s >= e) return null;
    const widened = snapping() && (s < raw.start || e > raw.end);
    return { start: s, end: e, snapped: widened || state.widened };
  }

  // The keyboard's (or a snapped mouse) selection as the keys made it, before snapping,
  // when it is the one shown; null when the shown selection came from elsewhere.
  function ownSelection(sel) {
    if (state.anchor === null || state.caret === null) return null;
    const [s, e] = effective(state.anchor, state.caret);
    if (s !== sel.start || e !== sel.end) return null;
    return { start: Math.min(state.anchor, state.caret), end: Math.max(state.anchor, state.caret) };
  }

  // A selection made by other means (a script, a triple click) becomes the keyboard's.
  function adoptDomSelection() {
    const sel = selectionOffsets();
    if (!sel || sel.collapsed || ownSelection(sel)) return;
    state.anchor = sel.start;
    state.caret = sel.end;
  }

  function submitSpan(codeId, keyEvent) {
    const form = document.getElementById("span-form");
    const ws = workspace();
    if (!form || !ws) return;
    if (ws.dataset.frozen) {
      feedback().error(ws.dataset.frozen);
      return;
    }
    const sel = currentSelection();
    if (!sel) {
      feedback().error("Select some text first, then choose a code.");
      return;
    }
    const text = container().textContent;
    form.elements.start.value = sel.start;
    form.elements.end.value = sel.end;
    form.elements.quote.value = text.slice(toUtf16(text, sel.start), toUtf16(text, sel.end));
    form.elements.code.value = codeId;
    state.refocus = document.activeElement === container();
    state.caret = sel.end;
    state.anchor = null;
    state.pending = null;
    window.getSelection().removeAllRanges();
    describeSelection();
    if (keyEvent) {
      // The bench measures from the key press to the new highlight drawn.
      performance.clearMarks("framing:tag-key");
      performance.clearMarks("framing:tag-drawn");
      performance.mark("framing:tag-key", { startTime: keyEvent.timeStamp });
      state.tagging = true;
    }
    form.requestSubmit();
  }

  function feedback() {
    return window.framingFeedback || { error: function () {}, notice: function () {} };
  }

  function codeForKey(key) {
    return document.querySelector('.code-button[data-shortcut="' + CSS.escape(key) + '"]');
  }

  function inspectAt(offset) {
    const ws = workspace();
    if (!ws) return;
    state.inspecting = true;
    window.htmx.ajax("GET", ws.dataset.inspectUrl + "?at=" + offset, {
      source: ws,
      target: "#workspace",
      swap: "outerHTML",
    });
  }

  function isTyping(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  // --- Find (/) ---------------------------------------------------------------------------

  const find = { matches: [], index: -1, from: 0, before: null };

  function findForm() {
    return document.getElementById("find");
  }

  // Matches of the query at the start of a word (or anywhere, for a query that does not
  // begin with a letter or digit), ignoring case; code-point offsets.
  function matchesOf(query) {
    const q = Array.from(query.toLowerCase());
    if (!q.length) return [];
    chars();
    const lower = cache.lower;
    const list = cache.chars;
    const wordStart = isWordChar(q[0]);
    const found = [];
    for (let i = 0; i + q.length <= lower.length; i++) {
      if (wordStart && i > 0 && isWordChar(list[i - 1])) continue;
      let ok = true;
      for (let j = 0; j < q.length; j++) {
        if (lower[i + j] !== q[j]) {
          ok = false;
          break;
        }
      }
      if (ok) found.push(i);
    }
    return found;
  }

  function highlightMatch() {
    const status = document.getElementById("find-status");
    const input = document.getElementById("find-input");
    const length = Array.from(input.value).length;
    if (window.CSS && CSS.highlights) CSS.highlights.delete("find-match");
    if (find.index < 0) {
      status.textContent = input.value ? "No match." : "";
      return;
    }
    const at = find.matches[find.index];
    status.textContent = "Match " + (find.index + 1) + " of " + find.matches.length + ".";
    if (window.CSS && CSS.highlights && window.Highlight) {
      const range = document.createRange();
      const a = positionOf(at);
      const b = positionOf(at + length);
      range.setStart(a.node, a.offset);
      range.setEnd(b.node, b.offset);
      CSS.highlights.set("find-match", new window.Highlight(range));
    }
  }

  function runFind() {
    const input = document.getElementById("find-input");
    find.matches = matchesOf(input.value);
    find.index = -1;
    for (let i = 0; i < find.matches.length; i++) {
      if (find.matches[i] >= find.from) {
        find.index = i;
        break;
      }
    }
    if (find.index < 0 && find.matches.length) find.index = 0; // wrap to the top
    highlightMatch();
  }

  function openFind() {
    const form = findForm();
    const root = container();
    if (!form || !root) return;
    if (state.caret === null) {
      const sel = selectionOffsets();
      state.caret = sel ? sel.end : 0;
    }
    find.from = state.caret;
    find.before = { anchor: state.anchor, caret: state.caret };
    form.hidden = false;
    const input = document.getElementById("find-input");
    input.focus({ preventScroll: true });
    input.select();
    runFind();
  }

  function closeFind(accept, extend) {
    const form = findForm();
    const input = document.getElementById("find-input");
    if (window.CSS && CSS.highlights) CSS.highlights.delete("find-match");
    form.hidden = true;
    const root = container();
    if (accept && find.index >= 0) {
      const at = find.matches[find.index];
      const end = at + Array.from(input.value).length;
      if (extend && state.anchor !== null) {
        state.caret = Math.max(end, state.anchor);
      } else if (extend && find.before && find.before.anchor === null && state.pending) {
        state.anchor = state.pending.start;
        state.caret = end;
      } else {
        state.anchor = at;
        state.caret = end;
      }
      state.goalX = null;
      settleSelection();
    } else if (find.before) {
      state.anchor = find.before.anchor;
      state.caret = find.before.caret;
    }
    root.focus({ preventScroll: true });
    showSelection();
    if (accept) revealCaret();
    drawCaret();
  }

  document.addEventListener("input", function (event) {
    if (event.target.id === "find-input") runFind();
  });

  function onFindKey(event) {
    if (event.key === "Enter") {
      event.preventDefault();
      closeFind(true, event.shiftKey);
    } else if (event.key === "Escape") {
      event.preventDefault();
      closeFind(false, false);
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!find.matches.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      find.index = (find.index + step + find.matches.length) % find.matches.length;
      highlightMatch();
    }
  }

  // --- Keys in the text --------------------------------------------------------------------

  // One visual line up or down (as the text wraps on screen), keeping to one x.
  function lineMove(from, dir) {
    const sel = window.getSelection();
    const before = caretRect(from);
    if (state.goalX === null) state.goalX = before.left;
    const pos = positionOf(from);
    sel.collapse(pos.node, pos.offset);
    sel.modify("move", dir > 0 ? "forward" : "backward", "line");
    if (!sel.focusNode || !container().contains(sel.focusNode)) return from;
    let to = offsetOf(sel.focusNode, sel.focusOffset);
    state.caret = to;
    revealCaret();
    const rect = caretRect(to);
    const y = rect.top + rect.height / 2;
    const hit = document.caretRangeFromPoint ? document.caretRangeFromPoint(state.goalX, y) : null;
    if (hit && container().contains(hit.startContainer)) {
      const refined = offsetOf(hit.startContainer, hit.startOffset);
      if (Math.abs(caretRect(refined).top - rect.top) < rect.height / 2) to = refined;
    }
    return to;
  }

  function lineBoundary(from, dir) {
    const sel = window.getSelection();
    const pos = positionOf(from);
    sel.collapse(pos.node, pos.offset);
    sel.modify("move", dir > 0 ? "forward" : "backward", "lineboundary");
    if (!sel.focusNode || !container().contains(sel.focusNode)) return from;
    return offsetOf(sel.focusNode, sel.focusOffset);
  }

  // The selection's edges for the boundary keys: [start, end] and which one the caret is.
  function edges() {
    if (state.anchor === null) return null;
    const [s, e] = effective(state.anchor, state.caret);
    if (s >= e) return null;
    return { start: s, end: e };
  }

  // Shared with the review page's gold boundaries (review.js reads window.framingBoundaryKeys).
  const BOUNDARY_KEYS = Object.freeze({
    "[": ["start", -1, "word"],
    "]": ["start", 1, "word"],
    "{": ["start", -1, "char"],
    "}": ["start", 1, "char"],
    ",": ["end", -1, "word"],
    ".": ["end", 1, "word"],
    "<": ["end", -1, "char"],
    ">": ["end", 1, "char"],
  });

  function moveBoundary(key) {
    const range = edges();
    if (!range) {
      feedback().error("Select some text first; these keys move its start and end.");
      return;
    }
    const [edge, dir, unit] = BOUNDARY_KEYS[key];
    const list = chars();
    let { start, end } = range;
    if (edge === "start") {
      start = unit === "word" ? startStep(list, start, dir) : Math.max(0, Math.min(list.length, start + dir));
      if (start >= end) return;
    } else {
      end = unit === "word" ? endStep(list, end, dir) : Math.max(0, Math.min(list.length, end + dir));
      if (end <= start) return;
    }
    state.anchor = start;
    state.caret = end;
    showSelection();
    revealCaret();
    drawCaret();
  }

  function toggleDefinitions() {
    const all = Array.from(document.querySelectorAll(".codebook details.definition"));
    const open = !all.every(function (d) { return d.open; });
    all.forEach(function (d) { d.open = open; });
  }

  // A code button, a definition or the legend must not take the selection or the focus
  // away from the text (the find box is the one control there that takes focus).
  document.addEventListener("mousedown", function (event) {
    const panel = event.target.closest(".codebook");
    if (panel && !event.target.closest("input, textarea, select")) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    const button = event.target.closest(".code-button");
    if (button) {
      submitSpan(button.dataset.code);
      return;
    }
    const entry = event.target.closest(".span-entry");
    if (entry) {
      state.reveal = true; // the person asked to go to that span
      inspectAt(Number(entry.dataset.start));
      return;
    }
    const hl = event.target.closest("#doc-text .hl");
    if (hl) {
      const sel = selectionOffsets();
      if (sel && !sel.collapsed) return; // the end of a drag, not a click
      // The innermost highlight is one piece of text: every span stacked on it covers its
      // first character, wherever inside it the click landed.
      const root = container();
      state.caret = toCodePoints(root.textContent, utf16Offset(root, hl, 0));
      inspectAt(state.caret);
    }
  });

  // A mouse selection becomes the keyboard's selection too (snapped, when the project
  // snaps, and shown as snapped at once), so both ways of selecting mix.
  let dragging = false;
  document.addEventListener("mousedown", function (event) {
    const root = container();
    dragging = Boolean(root && root.contains(event.target));
  });

  document.addEventListener("mouseup", function () {
    if (!dragging) return;
    dragging = false;
    const sel = window.getSelection();
    const offsets = selectionOffsets();
    if (!offsets) return;
    if (offsets.collapsed) {
      state.anchor = null;
      state.caret = offsets.start;
      state.pending = null;
      drawCaret();
      describeSelection();
      return;
    }
    const backwards = sel.anchorNode && offsetOf(sel.anchorNode, sel.anchorOffset) > offsets.start;
    state.anchor = backwards ? offsets.end : offsets.start;
    state.caret = backwards ? offsets.start : offsets.end;
    state.goalX = null;
    settleSelection();
    showSelection();
  });

  document.addEventListener("selectionchange", function () {
    const root = container();
    if (!root) return;
    const sel = selectionOffsets();
    if (!sel) {
      // Focus went elsewhere (the codebook, a definition): the selection made in the text
      // is kept. A new selection that only partly covers the text replaces it.
      const dom = window.getSelection();
      if (dom && dom.rangeCount && !dom.isCollapsed && dom.containsNode(root, true)) {
        state.pending = null;
        describeSelection();
      }
      return;
    }
    if (sel.collapsed) {
      state.pending = null;
      state.widened = false;
      if (document.activeElement === root && state.anchor === null) state.caret = sel.start;
    } else {
      state.pending = { start: sel.start, end: sel.end };
      if (!ownSelection(sel)) state.widened = false; // a selection made by other means
    }
    describeSelection();
  });

  document.addEventListener("keydown", function (event) {
    if (event.target && event.target.id === "find-input") {
      onFindKey(event);
      return;
    }
    const root = container();
    if (!root) return;
    if (event.key === "Escape" && event.target !== root && event.target.closest("#workspace, .codebook")) {
      // Back from the inspector, the span list or the codebook to the text, caret as it was.
      root.focus({ preventScroll: true });
      return;
    }
    if (isTyping(event.target)) return;
    if (event.altKey || event.metaKey) return;
    const codeButton = !event.ctrlKey && event.key.length === 1 ? codeForKey(event.key) : null;
    if (codeButton) {
      event.preventDefault();
      submitSpan(codeButton.dataset.code, event);
      return;
    }
    if (event.ctrlKey && event.key.length === 1) return; // the browser's own shortcuts
    if (event.key === "?") {
      event.preventDefault();
      toggleDefinitions();
      return;
    }
    if (event.key === "/") {
      event.preventDefault();
      openFind();
      return;
    }
    if (event.target !== root) return;
    if (state.caret === null) {
      const sel = selectionOffsets();
      state.caret = sel ? sel.end : 0;
    }
    adoptDomSelection();
    state.widened = false;
    if (BOUNDARY_KEYS[event.key]) {
      event.preventDefault();
      moveBoundary(event.key);
      return;
    }
    const list = chars();
    const bounds = event.ctrlKey && /^Arrow(Up|Down)$/.test(event.key) ? sentences() : null;
    const vertical = !event.ctrlKey && /^Arrow(Up|Down)$/.test(event.key);
    let next = null;
    switch (event.key) {
      case "ArrowRight":
        next = event.ctrlKey ? wordStep(list, state.caret, 1) : Math.min(list.length, state.caret + 1);
        break;
      case "ArrowLeft":
        next = event.ctrlKey ? wordStep(list, state.caret, -1) : Math.max(0, state.caret - 1);
        break;
      case "ArrowDown":
        if (bounds) {
          next = event.shiftKey ? nextIn(bounds.ends, state.caret) : nextIn(bounds.starts, state.caret);
          if (next === null) next = list.length;
        } else {
          next = lineMove(state.caret, 1);
        }
        break;
      case "ArrowUp":
        if (bounds) {
          next = previousIn(bounds.starts, state.caret);
          if (next === null) next = 0;
        } else {
          next = lineMove(state.caret, -1);
        }
        break;
      case "Home":
        next = event.ctrlKey ? 0 : lineBoundary(state.caret, -1);
        break;
      case "End":
        next = event.ctrlKey ? list.length : lineBoundary(state.caret, 1);
        break;
      case "Enter": {
        event.preventDefault();
        inspectAt(state.caret);
        return;
      }
      case "Escape":
        state.anchor = null;
        state.pending = null;
        window.getSelection().removeAllRanges();
        drawCaret();
        describeSelection();
        return;
      default:
        return;
    }
    event.preventDefault();
    if (!vertical) state.goalX = null;
    if (event.shiftKey) {
      if (state.anchor === null) state.anchor = state.caret;
    } else {
      state.anchor = null;
    }
    state.caret = next;
    showSelection();
    revealCaret();
    drawCaret();
  });

  document.addEventListener("focusin", drawCaret);
  document.addEventListener("focusout", function () {
    window.setTimeout(drawCaret, 0);
  });
  window.addEventListener("resize", drawCaret);

  // --- Keeping the page still across workspace swaps --------------------------------------

  const FOCUSABLE = "button, select, textarea, input:not([type=hidden]), a[href], [tabindex]";

  // Where keyboard focus was, described so that it survives the swap: the text, Undo, or
  // the n-th control of one span's block (inspector or list).
  function describeFocus() {
    const el = document.activeElement;
    const ws = workspace();
    if (el && el.id === "undo") return { undo: true };
    if (!el || !ws || !ws.contains(el)) return null;
    if (el.id === "doc-text") return { text: true };
    const block = el.closest(".inspected, .span-entry");
    if (!block) return { other: true };
    return {
      span: block.dataset.span,
      entry: block.classList.contains("span-entry"),
      index: Array.from(block.querySelectorAll(FOCUSABLE)).indexOf(el),
    };
  }

  function restoreFocus(before) {
    const root = container();
    if (!before || !root) return;
    if (before.text) {
      root.focus({ preventScroll: true });
      return;
    }
    const inspected = before.span
      ? document.querySelector('#inspector .inspected[data-span="' + CSS.escape(before.span) + '"]')
      : null;
    let target = null;
    if (inspected && !before.entry) {
      target = inspected.querySelectorAll(FOCUSABLE)[before.index] || null;
    } else if (inspected) {
      // A span-list entry opens its span in the inspector: go there to edit it.
      target = inspected.querySelector(FOCUSABLE);
    }
    target =
      target ||
      document.getElementById("undo") ||
      document.querySelector("#inspector select") ||
      root;
    target.focus({ preventScroll: true });
  }

  // A request aimed at the workspace. Its answer is either a new workspace or only the
  // pieces that changed (out of band, the workspace itself staying); htmx fires the swap
  // events on every swapped element, so the handlers below act on the workspace's own.
  function isWorkspaceSwap(event) {
    const target = event.detail.target;
    if (!target || target.id !== "workspace") return false;
    return event.type === "htmx:beforeSwap" || event.target.id === "workspace";
  }

  // The state token of what the page shows goes with every request to the workspace; a
  // form in the inspector also says which spans the inspector shows, to keep them open.
  document.addEventListener("htmx:configRequest", function (event) {
    const marker = document.getElementById("coding-state");
    const target = event.detail.target;
    if (!marker || !target || target.id !== "workspace") return;
    event.detail.parameters.state = marker.dataset.state;
    const source = event.detail.elt;
    if (source && source.closest && source.closest("#inspector")) {
      event.detail.parameters.keep = Array.from(
        document.querySelectorAll("#inspector .inspected[data-span]"),
        function (block) { return block.dataset.span; }
      );
    }
  });

  // The highlights of the spans open in the inspector are tinted: drawn so by a page
  // load, set here after out-of-band swaps (which leave the other highlights alone).
  function tintOpenSpans() {
    const root = container();
    if (!root) return;
    const open = new Set(
      Array.from(document.querySelectorAll("#inspector .inspected[data-span]"), function (block) {
        return block.dataset.span;
      })
    );
    root.querySelectorAll(".hl.selected").forEach(function (el) {
      if (!open.has(el.dataset.span)) el.classList.remove("selected");
    });
    open.forEach(function (id) {
      root.querySelectorAll('.hl[data-span="' + CSS.escape(id) + '"]').forEach(function (el) {
        el.classList.add("selected");
      });
    });
  }

  // Performance API marks for the bench: the page is interactive once this script has
  // run and the text is drawn; a tag's highlight is drawn in the frame after its swap.
  function markAfterPaint(name) {
    window.requestAnimationFrame(function () {
      window.setTimeout(function () { performance.mark(name); }, 0);
    });
  }

  let focusBefore = null;
  let kept = null; // where the page and the spans column were scrolled before the swap

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!isWorkspaceSwap(event)) return;
    focusBefore = state.refocus ? { text: true } : describeFocus();
    state.refocus = false;
    const column = document.getElementById("spans-column");
    kept = {
      x: window.scrollX,
      y: window.scrollY,
      column: column ? column.scrollTop : 0,
      reveal: state.reveal,
      inspecting: state.inspecting,
    };
    state.reveal = false;
    state.inspecting = false;
  });

  function keepScroll() {
    if (!kept) return;
    if (!kept.reveal && (window.scrollX !== kept.x || window.scrollY !== kept.y)) {
      window.scrollTo(kept.x, kept.y);
    }
  }

  // After htmx replaces the workspace: the page stays where it was (unless the person
  // asked to go to a span), the spans column shows the inspector after a click, keyboard
  // focus goes back where it was (or to Undo after a delete). Focus returns to the text at
  // once, so no keystroke typed straight after a tag is lost; a control gets it only on
  // settle, because htmx binds hx-post on new controls then.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!isWorkspaceSwap(event)) return;
    tintOpenSpans();
    if (state.tagging) {
      state.tagging = false;
      markAfterPaint("framing:tag-drawn");
    }
    if (!kept) return;
    keepScroll();
    const column = document.getElementById("spans-column");
    if (column) column.scrollTop = kept.inspecting ? 0 : kept.column;
    if (kept.reveal) {
      const selected = document.querySelector("#doc-text .hl.selected");
      if (selected) selected.scrollIntoView({ block: "center" });
    }
    state.anchor = null;
    if (focusBefore && focusBefore.text) {
      restoreFocus(focusBefore);
      focusBefore = null;
    }
    keepScroll();
    drawCaret();
    describeSelection();
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (!isWorkspaceSwap(event)) return;
    if (focusBefore) {
      restoreFocus(focusBefore);
      focusBefore = null;
    }
    keepScroll();
    kept = null;
    drawCaret();
  });

  // A piece the server meant to replace is missing (which the state token should make
  // impossible): draw the whole workspace again rather than show a half-updated page.
  document.addEventListener("htmx:oobErrorNoTarget", function () {
    const ws = workspace();
    if (!ws) return;
    window.htmx.ajax("GET", window.location.pathname, { source: ws, target: "#workspace", swap: "outerHTML" });
  });

  if (container()) markAfterPaint("framing:interactive");

  // Exposed for the browser tests, which check the conversion on awkward text.
  window.framingBoundaryKeys = BOUNDARY_KEYS;
  window.framingOffsets = {
    toCodePoints: toCodePoints,
    toUtf16: toUtf16,
    selectionOffsets: selectionOffsets,
    currentSelection: currentSelection,
  };
})();
