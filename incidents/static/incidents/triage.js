/*
 * Triage pages, progressive enhancement only: everything works without this file.
 *
 * Queue: a "select all" checkbox, and keyboard shortcuts (/ search, j/k next/previous row,
 * x select the current row, Enter opens it, since the row's link has focus).
 * Incident page: the canonical-system <select> gets a search box that asks
 * /triage/systems/?q= and picks the chosen system in the <select>, which is what the form sends.
 * Text from the server is only ever set as textContent or option values, never as HTML.
 */
(function () {
  "use strict";

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  // The queue -----------------------------------------------------------------------------------

  function enhanceQueue(table) {
    var boxes = Array.prototype.slice.call(table.querySelectorAll("[data-select-row]"));
    var links = Array.prototype.slice.call(table.querySelectorAll("[data-row-link]"));
    var hint = document.querySelector("[data-keyboard-hint]");
    if (hint) {
      hint.hidden = false;
    }

    function mark(box) {
      var row = box.closest("tr");
      if (row) {
        row.classList.toggle("selected", box.checked);
      }
    }
    boxes.forEach(function (box) {
      box.addEventListener("change", function () { mark(box); });
    });

    var header = table.querySelector("thead .select-col");
    if (header && boxes.length) {
      var all = document.createElement("input");
      all.type = "checkbox";
      all.id = "select-all";
      all.setAttribute("aria-label", "Select every incident on this page");
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = all.checked; mark(box); });
      });
      header.textContent = "";
      header.appendChild(all);
    }

    var current = -1;
    function focusRow(index) {
      if (!links.length) {
        return;
      }
      current = Math.max(0, Math.min(links.length - 1, index));
      links.forEach(function (link, i) {
        link.closest("tr").classList.toggle("row-current", i === current);
      });
      links[current].focus();
    }
    links.forEach(function (link, i) {
      link.addEventListener("focus", function () { current = i; });
    });

    document.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) {
        return;
      }
      if (event.key === "/") {
        var search = document.querySelector("[data-triage-search]");
        if (search) {
          event.preventDefault();
          search.focus();
          search.select();
        }
      } else if (event.key === "j") {
        event.preventDefault();
        focusRow(current + 1);
      } else if (event.key === "k") {
        event.preventDefault();
        focusRow(current - 1);
      } else if (event.key === "x" && current >= 0 && boxes[current]) {
        event.preventDefault();
        boxes[current].checked = !boxes[current].checked;
        mark(boxes[current]);
      }
    });
  }

  // System autocomplete -------------------------------------------------------------------------

  function enhanceSystemSelect(select) {
    var wrapper = select.closest("[data-autocomplete-url]");
    if (!wrapper || !window.fetch) {
      return;
    }
    var url = wrapper.getAttribute("data-autocomplete-url");
    var listId = select.id + "-options";
    var label = document.createElement("label");
    label.setAttribute("for", select.id + "-search");
    label.textContent = "Find a system by name or vendor";
    var input = document.createElement("input");
    input.type = "search";
    input.id = select.id + "-search";
    input.setAttribute("list", listId);
    input.setAttribute("autocomplete", "off");
    var datalist = document.createElement("datalist");
    datalist.id = listId;
    var found = {};
    select.parentNode.insertBefore(label, select);
    select.parentNode.insertBefore(input, select);
    select.parentNode.insertBefore(datalist, select);

    function choose() {
      var id = found[input.value];
      if (id === undefined) {
        return;
      }
      var option = select.querySelector('option[value="' + id + '"]');
      if (!option) {
        option = document.createElement("option");
        option.value = String(id);
        option.textContent = input.value;
        select.appendChild(option);
      }
      select.value = String(id);
    }

    var timer = null;
    var asked = 0;
    input.addEventListener("input", function () {
      choose();
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var ask = ++asked;
        fetch(url + "?q=" + encodeURIComponent(input.value.trim()), {
          headers: { Accept: "application/json" },
          credentials: "same-origin"
        })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) {
            if (ask !== asked) {
              return; // an older answer arriving late
            }
            datalist.textContent = "";
            found = {};
            (data.results || []).forEach(function (system) {
              var option = document.createElement("option");
              option.value = system.label;
              datalist.appendChild(option);
              found[system.label] = system.id;
            });
            choose();
          })
          .catch(function () { /* the <select> still works */ });
      }, 200);
    });
    input.addEventListener("change", choose);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var table = document.querySelector("[data-queue]");
    if (table) {
      enhanceQueue(table);
    }
    Array.prototype.forEach.call(document.querySelectorAll("select[data-system-autocomplete]"), enhanceSystemSelect);
  });
})();
