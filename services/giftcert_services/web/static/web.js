// giftcert's pages: a live character count for text areas, a status that follows the
// certificate without a reload, and a bulk upload's progress. No inline script anywhere (the
// Content-Security-Policy forbids it).
"use strict";

function countCharacters(area) {
  var target = document.getElementById(area.getAttribute("data-count"));
  var text = area.getAttribute("data-count-text") || "{count} / {limit}";  // in the page's language
  var update = function () {
    target.textContent = text.replace("{count}", area.value.length).replace("{limit}", area.maxLength);
  };
  area.addEventListener("input", update);
  update();
}

function followStatus(holder) {
  var badge = document.getElementById("status-badge");
  var text = document.getElementById("status-text");
  var poll = function () {
    fetch(holder.getAttribute("data-status-url"), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (status) {
          badge.textContent = status.label;
          badge.setAttribute("data-status", status.status);
          text.textContent = status.text;
          if (status.done) { holder.setAttribute("data-done", "true"); return; }
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  };
  if (holder.getAttribute("data-done") !== "true") { window.setTimeout(poll, 500); }
}

function followProgress(holder) {
  var bar = document.getElementById("bulk-progress");
  var text = document.getElementById("bulk-progress-text");
  var poll = function () {
    fetch(holder.getAttribute("data-progress-url"), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (progress) {
        if (progress) {
          bar.max = Math.max(progress.total, 1);
          bar.value = progress.total ? progress.done : 1;
          text.textContent = progress.text;
          if (progress.finished) { window.location.reload(); return; }  // the report is drawn by the server
        }
        window.setTimeout(poll, 500);
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  };
  window.setTimeout(poll, 300);
}

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("textarea[data-count]").forEach(countCharacters);
  document.querySelectorAll("[data-status-url]").forEach(followStatus);
  document.querySelectorAll("[data-progress-url]").forEach(followProgress);
});
