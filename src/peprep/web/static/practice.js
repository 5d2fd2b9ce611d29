// peprep practice pages: keys for the review card and the mock-interview countdown.
// Loaded with `defer` on every page; does nothing where its elements are absent. No inline scripts (CSP).
"use strict";

(function () {
  function typing(target) {
    return target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" ||
                      target.tagName === "SELECT" || target.isContentEditable);
  }

  function visible(el) {
    return el && el.offsetParent !== null;
  }

  // ---- review: Space reveals the answer, 1–4 press the rating buttons (once they are visible)
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var card = document.getElementById("review-card");
    if (!card) return;
    if (/^[1-4]$/.test(event.key)) {
      var button = card.querySelector('.rating-buttons button[value="' + event.key + '"]');
      if (visible(button)) {
        event.preventDefault();
        button.click();
      }
    } else if (event.key === " ") {
      var reveal = card.querySelector("button.reveal-answer");
      if (visible(reveal)) {
        event.preventDefault();
        reveal.click();
      }
    }
  });

  // After a rating, the next card is swapped in: put the focus back on the page, not the old button.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === "review-card") event.target.focus({ preventScroll: true });
  });

  // ---- mock interview: count down from the seconds the server said were left
  function startTimer(el) {
    var left = parseInt(el.getAttribute("data-remaining"), 10);
    if (isNaN(left)) return;
    var until = Date.now() + left * 1000;
    function tick() {
      var seconds = Math.max(0, Math.round((until - Date.now()) / 1000));
      var mm = String(Math.floor(seconds / 60)).padStart(2, "0");
      var ss = String(seconds % 60).padStart(2, "0");
      el.textContent = seconds > 0 ? "剩余 " + mm + ":" + ss : "时间到：答完这一题就结束";
      el.classList.toggle("urgent", seconds <= 60);
      if (seconds > 0) setTimeout(tick, 1000);
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".mock-timer[data-remaining]").forEach(startTimer);
  });
})();
