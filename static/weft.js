// Small improvements over the plain HTML forms; everything works without this file.
// Picking photos in the composer uploads them at once, so they can be described before posting.
document.addEventListener("change", function (e) {
  var input = e.target;
  if (!(input instanceof HTMLInputElement) || !input.hasAttribute("data-autoupload")) return;
  if (!input.files || input.files.length === 0 || !input.form) return;
  var button = input.form.querySelector('button[name="action"][value="attach"]');
  if (!button) return;
  input.form.classList.add("uploading");
  if (input.form.requestSubmit) input.form.requestSubmit(button); else button.click();
});
document.documentElement.classList.add("js");

// @mention and #hashtag suggestions while writing a post, from /search/suggest (JSON).
(function () {
  var list = null, items = [], selected = -1, target = null, timer = null, seq = 0;

  function currentWord(ta) {
    var upto = ta.value.slice(0, ta.selectionStart);
    var m = /(^|[\s(])([@#][\p{L}\p{N}_.]*)$/u.exec(upto);
    return m ? { word: m[2], start: upto.length - m[2].length } : null;
  }

  function close() {
    if (list) list.remove();
    list = null; items = []; selected = -1;
    if (target) target.setAttribute("aria-expanded", "false");
  }

  function choose(i) {
    var ta = target, w = ta && currentWord(ta);
    if (!w || !items[i]) return close();
    var text = items[i].insert + " ";
    ta.value = ta.value.slice(0, w.start) + text + ta.value.slice(ta.selectionStart);
    var caret = w.start + text.length;
    ta.setSelectionRange(caret, caret);
    close();
    ta.focus();
  }

  function mark() {
    if (!list) return;
    Array.prototype.forEach.call(list.children, function (li, i) {
      li.setAttribute("aria-selected", i === selected ? "true" : "false");
    });
    if (selected >= 0) target.setAttribute("aria-activedescendant", "sugg-" + selected);
  }

  function show(ta, data) {
    close();
    items = (data.accounts || []).map(function (a) {
      return { insert: "@" + a.username, label: "@" + a.username, sub: a.display_name };
    }).concat((data.tags || []).map(function (t) {
      return { insert: "#" + t.name, label: "#" + t.name, sub: t.posts === 1 ? "1 post" : t.posts + " posts" };
    }));
    if (items.length === 0) return;
    target = ta;
    list = document.createElement("ul");
    list.className = "suggestions";
    list.id = "suggestions";
    list.setAttribute("role", "listbox");
    items.forEach(function (it, i) {
      var li = document.createElement("li");
      li.id = "sugg-" + i;
      li.setAttribute("role", "option");
      li.textContent = it.label;
      if (it.sub) {
        var s = document.createElement("span");
        s.className = "sub";
        s.textContent = it.sub;
        li.appendChild(s);
      }
      li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
      list.appendChild(li);
    });
    ta.setAttribute("aria-controls", "suggestions");
    ta.setAttribute("aria-expanded", "true");
    list.style.left = ta.offsetLeft + "px";
    list.style.top = (ta.offsetTop + ta.offsetHeight + 4) + "px";
    ta.insertAdjacentElement("afterend", list);
    selected = 0;
    mark();
  }

  document.addEventListener("input", function (e) {
    var ta = e.target;
    if (!(ta instanceof HTMLTextAreaElement) || ta.name !== "body") return;
    ta.setAttribute("aria-autocomplete", "list");
    var w = currentWord(ta);
    clearTimeout(timer);
    if (!w || w.word.length < 2) return close();
    var mine = ++seq;
    timer = setTimeout(function () {
      fetch("/search/suggest?q=" + encodeURIComponent(w.word), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data && mine === seq) show(ta, data); })
        .catch(function () {});
    }, 150);
  });

  document.addEventListener("keydown", function (e) {
    if (!list || e.target !== target) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      selected = (selected + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      mark();
    } else if (e.key === "Enter" || e.key === "Tab") {
      e.preventDefault();
      choose(selected);
    } else if (e.key === "Escape") {
      close();
    }
  });

  document.addEventListener("focusout", function (e) { if (e.target === target) setTimeout(close, 100); });
})();
