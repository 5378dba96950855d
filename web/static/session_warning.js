/* Before an idle session ends (web/session_timeout.py, REFORMFLOW_IDLE_MINUTES), warn: about two
   minutes before, the page's dialog (#session-warning, base.html) opens with 「继续办理」 focused;
   pressing it posts to /session/continue, a request like any other, so the session's time starts
   again, and focus goes back where it was. Escape closes the dialog without renewing. If the time
   passes anyway the dialog says so; a step's form sent after that is kept as the holder's draft
   by the server. The server says how many seconds are left (data-left, and each answer).
   The session is one for all the person's tabs: each tab tells the others when it ends now
   (localStorage), so work in one tab does not leave another warning of a sign-out that is not
   coming, and 继续办理 in one closes the others' dialogs. */
(function () {
  "use strict";
  var box = document.getElementById("session-warning");
  if (!box) return;
  var LEAD = 120;  // seconds before the end: the dialog's text says "about 2 minutes"
  var again = box.querySelector("[data-continue]"), close = box.querySelector("[data-close]");
  var before = null, warnTimer = null, endTimer = null;
  var SHARED = "reformflow-session-ends";  // when the session ends (ms since 1970), for the other tabs
  var ending = box.querySelector("[data-ending]"), endedText = box.querySelector("[data-ended]");

  function tell(left) {
    try { localStorage.setItem(SHARED, String(Date.now() + left * 1000)); } catch (e) { /* storage off */ }
  }

  function schedule(left) {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    if (!(left > 0)) return ended();
    warnTimer = setTimeout(warn, Math.max(left - Math.min(LEAD, left / 2), 0) * 1000);
    endTimer = setTimeout(ended, left * 1000);
  }

  function open(focus) {
    if (box.hidden) before = document.activeElement;
    box.hidden = false;
    focus.focus();
  }

  function hide() {
    box.hidden = true;
    if (before && document.contains(before)) before.focus();
    before = null;
  }

  function warn() { open(again); }

  function ended() {
    clearTimeout(warnTimer);
    ending.hidden = true;
    endedText.hidden = false;
    endedText.id = "session-warning-text";
    ending.removeAttribute("id");
    again.hidden = true;
    close.hidden = false;
    open(close);
  }

  // another tab's page or 继续办理 moved the end: the dialog, if open, is no longer true
  function renewedElsewhere(left) {
    endedText.hidden = true;
    endedText.removeAttribute("id");
    ending.hidden = false;
    ending.id = "session-warning-text";
    again.hidden = false;
    close.hidden = true;
    if (!box.hidden) hide();
    schedule(left);
  }

  again.addEventListener("click", function () {
    again.setAttribute("aria-disabled", "true");
    fetch(box.dataset.url, {method: "POST", credentials: "same-origin",
                            headers: {"X-CSRFToken": box.dataset.csrf, "Accept": "application/json"}})
      .then(function (answer) { return answer.ok ? answer.json() : {left: 0}; })
      .catch(function () { return null; })  // the network, not the session: try again on the next click
      .then(function (now) {
        again.removeAttribute("aria-disabled");
        if (now === null) return;
        if (now.left > 0) { hide(); tell(now.left); }
        schedule(now.left);
      });
  });
  close.addEventListener("click", hide);
  box.addEventListener("keydown", function (event) {
    if (event.key === "Escape") hide();
  });

  window.addEventListener("storage", function (event) {
    if (event.key !== SHARED || !event.newValue) return;
    var left = (parseInt(event.newValue, 10) - Date.now()) / 1000;
    if (left > 0) renewedElsewhere(left);
  });

  var left = parseInt(box.dataset.left, 10);
  if (left > 0) tell(left);
  schedule(left);
})();
