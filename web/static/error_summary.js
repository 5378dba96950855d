/* A refused form's summary (web/templates/_field.html error_summary): a link to a field puts the
   cursor in it, its label in view. Following "#f-…" alone only scrolls: the browser does not move
   focus into a text box, and a keyboard or screen reader user would be left on the link. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
    if (!link) return;
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    event.preventDefault();
    var label = document.querySelector("label[for='" + field.id + "']");
    (label || field).scrollIntoView({block: "start"});
    field.focus({preventScroll: true});
  });
})();
