/* Switching the language (base.html's forms marked data-keep-typed) loads the page again from the
   server: what someone had typed into the page's forms and not yet sent (a long opinion on a step,
   a comment, the start-plan form) would be lost. Just before the switch it is kept in this tab's
   sessionStorage, and put back once into the same forms when the page comes again in the other
   language, with a short note saying so; the entry is removed as soon as a page reads it.

   Kept: the state of the text boxes, text areas, selects, radio buttons and check boxes, as typed
   or as the server put a refused form's words back (the page after the switch is a fresh one);
   put back where the new page differs, and only then is the note shown. Never passwords, files,
   hidden fields (the form token, versions), read-only fields or buttons. A form is found again by its action and its place among the forms with that action,
   a field by its name and its place among the fields of that name (a radio or check box by its
   value too): the page in the other language has the same forms, only its words differ. */
(function () {
  "use strict";
  var KEY = "reformflow-typed";
  var MAX_AGE = 10 * 60 * 1000; // a switch reloads at once; a stale entry is not put back later
  var SKIPPED = ["password", "file", "hidden", "submit", "button", "reset", "image"];
  var note = (document.currentScript && document.currentScript.dataset.kept) || "";

  function kept(field) {
    return field.name && !field.disabled && !field.readOnly && field.name !== "csrf_token" &&
      SKIPPED.indexOf((field.type || "").toLowerCase()) < 0 && !field.closest("form[data-keep-typed]");
  }

  // form key -> field key -> field, for every form of the page
  function fields() {
    var found = {}, forms = {};
    Array.prototype.forEach.call(document.forms, function (form) {
      var action = form.getAttribute("action") || "";
      forms[action] = (forms[action] || 0) + 1;
      var key = action + "#" + forms[action], named = {};
      found[key] = {};
      Array.prototype.forEach.call(form.elements, function (field) {
        if (!kept(field)) return;
        var type = (field.type || "").toLowerCase();
        var name = (type === "radio" || type === "checkbox") ? field.name + "=" + field.value : field.name;
        named[name] = (named[name] || 0) + 1;
        found[key][name + "#" + named[name]] = field;
      });
    });
    return found;
  }

  function state(field) {
    var type = (field.type || "").toLowerCase();
    if (type === "radio" || type === "checkbox") return {checked: field.checked};
    if (field.tagName === "SELECT") {
      return {selected: Array.prototype.filter.call(field.options, function (o) { return o.selected; })
        .map(function (o) { return o.value; })};
    }
    return {value: field.value};
  }

  function same(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
  }

  function put(field, value) {
    if ("checked" in value) field.checked = value.checked;
    else if ("selected" in value) {
      Array.prototype.forEach.call(field.options, function (o) { o.selected = value.selected.indexOf(o.value) >= 0; });
    } else field.value = value.value;
    // as if typed: whatever listens (a counter, a field shown on a choice) hears of it
    field.dispatchEvent(new Event("input", {bubbles: true}));
    field.dispatchEvent(new Event("change", {bubbles: true}));
  }

  function page(path) {
    return (path || "").split("?")[0].split("#")[0];
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-keep-typed")) return;
    var typed = {}, any = false, all = fields();
    Object.keys(all).forEach(function (formKey) {
      Object.keys(all[formKey]).forEach(function (fieldKey) {
        var field = all[formKey][fieldKey], value = state(field);
        typed[formKey] = typed[formKey] || {};
        typed[formKey][fieldKey] = value;
        // typed or changed here, or typed before and put back by the server (a refused form)
        any = any || !same(value, {value: ""}) && !same(value, {checked: false}) && !same(value, {selected: []});
      });
    });
    try {
      if (!any) {
        sessionStorage.removeItem(KEY);
        return;
      }
      var back = form.elements.next ? form.elements.next.value : "";
      sessionStorage.setItem(KEY, JSON.stringify({page: page(back || location.pathname), at: Date.now(), typed: typed}));
    } catch (e) { /* storage off or full: the switch goes on, as it did before */ }
  });

  var saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
    sessionStorage.removeItem(KEY); // once: a later visit of the page starts from what the server sends
  } catch (e) { return; }
  var samePage = saved && page(location.pathname) === saved.page; // `next` carries a path prefix too (web/back.py)
  if (!samePage || !saved.typed || !(Date.now() - saved.at < MAX_AGE)) return;
  var all = fields(), first = null;
  Object.keys(saved.typed).forEach(function (formKey) {
    Object.keys(saved.typed[formKey]).forEach(function (fieldKey) {
      var field = all[formKey] && all[formKey][fieldKey], value = saved.typed[formKey][fieldKey];
      if (!field || same(state(field), value)) return; // as the page came: nothing to put back
      put(field, value);
      first = first || field;
    });
  });
  if (!first || !note) return;
  var said = document.createElement("p");
  said.className = "draft-note typed-kept";
  said.setAttribute("role", "status");
  said.setAttribute("data-typed-kept", "");
  said.textContent = note;
  first.form.insertBefore(said, first.form.firstChild);
})();
