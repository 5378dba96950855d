/* A form that posts an action (claim, submit a step, attach a file, urge...) is sent once: a
   double click, or a second click while the server is slow, is ignored, and the button pressed
   says it is working until the next page comes. The only script of the site, and it is not
   needed: without it the server still answers a second submission ("submitted twice").

   The button is not disabled: a disabled button's name and value (通过 or 退回, 确认提交 or
   返回修改) would not be sent. Not locked: GET forms (search, filters, downloads: the page
   stays), a form the browser refused as invalid (no submit event is fired then), a page
   brought back by the back button (pageshow from the back/forward cache).

   The button's new words are also said (WCAG 4.1.3) through a polite live region of the page's
   own, made when the page comes (a region made at the moment it speaks is not heard). */
(function () {
  "use strict";
  var busy = (document.currentScript && document.currentScript.dataset.busy) || "…";
  var said = document.createElement("p");
  said.className = "visually-hidden";
  said.setAttribute("aria-live", "polite");
  said.setAttribute("data-submitting-said", "");
  document.body.appendChild(said);

  function posts(form, button) {
    var method = (button && button.getAttribute("formmethod")) || form.getAttribute("method") || "get";
    var target = (button && button.getAttribute("formtarget")) || form.getAttribute("target") || "";
    return method.toLowerCase() === "post" && (target === "" || target === "_self");
  }

  document.addEventListener("submit", function (event) {
    var form = event.target, button = event.submitter;
    if (!(form instanceof HTMLFormElement) || !posts(form, button)) return;
    if (form.hasAttribute("data-submitting")) {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-submitting", "");
    form.setAttribute("aria-busy", "true");
    if (button) {
      button.setAttribute("data-pressed", button.textContent);
      button.setAttribute("aria-disabled", "true");
      // an <input type=submit>'s label is its value, which is sent: only a <button>'s text changes
      if (button.tagName === "BUTTON") button.textContent = busy;
    }
    said.textContent = busy;
  });

  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    said.textContent = "";
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      form.removeAttribute("data-submitting");
      form.removeAttribute("aria-busy");
    });
    document.querySelectorAll("[data-pressed]").forEach(function (button) {
      if (button.tagName === "BUTTON") button.textContent = button.getAttribute("data-pressed");
      button.removeAttribute("data-pressed");
      button.removeAttribute("aria-disabled");
    });
  });
})();
