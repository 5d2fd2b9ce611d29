// peprep web app: typeset math with the vendored KaTeX, and reveal answers and 追问 on request.
// Loaded with `defer`, after katex.min.js and htmx.min.js. No inline scripts (the CSP forbids them).
"use strict";

(function () {
  // ---- math: peprep.rendering emits <span|div class="math math-inline|math-display">TeX</…>
  function renderMath(root) {
    if (!window.katex) return; // KaTeX missing: the TeX stays readable as text
    root.querySelectorAll(".math:not([data-typeset])").forEach(function (el) {
      var tex = el.textContent;
      el.setAttribute("data-typeset", "1");
      try {
        window.katex.render(tex, el, {
          displayMode: el.classList.contains("math-display"),
          throwOnError: true,
          strict: "ignore",
          trust: false,
          output: "htmlAndMathml",
        });
      } catch (err) {
        // An unrenderable formula shows its TeX, marked, and never breaks the page.
        el.textContent = tex;
        el.classList.add("math-error");
        el.title = "公式无法渲染：" + (err && err.message ? err.message : String(err));
      }
    });
  }

  // ---- reveal: answers (button.reveal-answer) and 追问 one at a time (button.next-followup)
  function controlled(button) {
    return document.getElementById(button.getAttribute("aria-controls"));
  }

  function syncFollowupButton(list) {
    var button = document.querySelector('.next-followup[aria-controls="' + CSS.escape(list.id) + '"]');
    if (!button) return;
    var items = list.querySelectorAll(":scope > li");
    var shown = list.querySelectorAll(":scope > li:not([hidden])").length;
    var counter = button.querySelector(".followup-shown");
    if (counter) counter.textContent = String(shown);
    button.hidden = shown >= items.length;
  }

  function showAnswer(answer) {
    answer.hidden = false;
    document.querySelectorAll('.reveal-answer[aria-controls="' + CSS.escape(answer.id) + '"]').forEach(function (b) {
      b.hidden = true;
      b.setAttribute("aria-expanded", "true");
    });
  }

  function showNextFollowup(list) {
    var next = list.querySelector(":scope > li[hidden]");
    if (next) {
      next.hidden = false;
      next.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
    syncFollowupButton(list);
  }

  // Open everything above `el` (answers and earlier 追问 in order) so a #anchor lands on it.
  function openTo(el) {
    for (var node = el; node; node = node.parentElement) {
      if (node.classList && node.classList.contains("answer")) showAnswer(node);
      if (node.tagName === "LI" && node.classList.contains("followup")) {
        var list = node.parentElement;
        for (var li = list.firstElementChild; li; li = li.nextElementSibling) {
          li.hidden = false;
          if (li === node) break;
        }
        syncFollowupButton(list);
      }
    }
  }

  function revealAll(root) {
    root.querySelectorAll(".answer").forEach(showAnswer);
    root.querySelectorAll(".followup-list").forEach(function (list) {
      list.querySelectorAll(":scope > li").forEach(function (li) { li.hidden = false; });
      syncFollowupButton(list);
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    if (button.classList.contains("reveal-answer")) showAnswer(controlled(button));
    else if (button.classList.contains("next-followup")) showNextFollowup(controlled(button));
    else if (button.classList.contains("reveal-all")) revealAll(document);
  });

  function openHashTarget() {
    if (!location.hash) return;
    var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target) {
      openTo(target);
      target.scrollIntoView();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    renderMath(document.body);
    openHashTarget();
  });
  window.addEventListener("hashchange", openHashTarget);
  // htmx swaps in new lists and search results: typeset their math too.
  document.addEventListener("htmx:afterSettle", function () { renderMath(document.body); });
})();
