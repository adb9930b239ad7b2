/*
 * Upload progress for forms that send files (progressive enhancement; the form works without it).
 *
 * For every <form data-upload-progress data-max-file-bytes="N">:
 * - a chosen file larger than N bytes is refused at once, next to its input, and never sent
 *   (the server enforces the same limit; this only spares the reporter a long upload);
 * - a submission is sent with XMLHttpRequest, so the <progress> inside [data-upload-status] can show
 *   how much has been sent, and the server's answer then replaces the page.
 *
 * How the answer replaces the page: the response HTML is written into this document with
 * document.open()/write()/close(), after history.replaceState() has set the address to the URL the
 * request ended at (the receipt page after a redirect, the form itself after a 400 or a preview).
 * - The Content-Security-Policy stays as strict as before: document.open() keeps this document's
 *   policy, which is the site-wide one every page is served with, so nothing inline can run.
 * - Everything the server said is shown once, as without JavaScript: the receipt's "thank you"
 *   message is consumed by the redirect the request followed, so fetching the receipt again would
 *   lose it; a form with errors can only be shown from the answer to the POST.
 * - History stays sane: the form's entry becomes the answer, so reloading asks for that address
 *   again with GET (never "resubmit the form?"), and Back leaves the form rather than returning
 *   to a copy of it that was already sent.
 */
(function () {
  "use strict";

  var MIB = 1024 * 1024;
  var ANNOUNCE_EVERY_MS = 1000; // screen readers queue polite updates: one a second is plenty

  // Same as megabytes() in incidents/transcripts, so both sides word the limit alike.
  function megabytes(size) {
    return size < 10 * MIB ? (size / MIB).toFixed(1) + " MB" : Math.floor(size / MIB) + " MB";
  }

  function progressText(verb, loaded, total) {
    if (total >= 0.1 * MIB) {
      return verb + " " + (loaded / MIB).toFixed(1) + " of " + (total / MIB).toFixed(1) + " MB";
    }
    return verb + " " + Math.ceil(loaded / 1024) + " of " + Math.ceil(total / 1024) + " KB";
  }

  function oversizedFile(input, maxBytes) {
    var files = input.files || [];
    for (var i = 0; i < files.length; i++) {
      if (files[i].size > maxBytes) {
        return files[i];
      }
    }
    return null;
  }

  function setFileError(input, message) {
    var id = input.id + "_size_error";
    var existing = document.getElementById(id);
    var describedBy = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (token) {
      return token && token !== id;
    });
    if (existing) {
      existing.remove();
    }
    if (message) {
      var error = document.createElement("p");
      error.className = "errorlist";
      error.id = id;
      error.setAttribute("role", "alert");
      error.textContent = message;
      input.parentNode.insertBefore(error, input);
      describedBy.push(id);
      input.setAttribute("aria-invalid", "true");
    } else if (!document.getElementById(input.id + "_error")) {
      input.removeAttribute("aria-invalid"); // no server error left either
    }
    if (describedBy.length) {
      input.setAttribute("aria-describedby", describedBy.join(" "));
    } else {
      input.removeAttribute("aria-describedby");
    }
  }

  // Refuses an oversized file; true when every chosen file is within the limit.
  function checkSize(input, maxBytes) {
    var file = oversizedFile(input, maxBytes);
    setFileError(
      input,
      file ? "The file is " + megabytes(file.size) + "; the limit is " + megabytes(maxBytes) + ". Choose a smaller file." : ""
    );
    return file === null;
  }

  function showAnswer(xhr) {
    if (xhr.responseURL) {
      history.replaceState(null, "", xhr.responseURL);
    }
    document.open();
    document.write(xhr.responseText);
    document.close();
    window.scrollTo(0, 0); // a new page starts at its top
  }

  function init(form) {
    var maxBytes = Number(form.dataset.maxFileBytes);
    var status = form.querySelector("[data-upload-status]");
    var bar = status && status.querySelector("progress");
    var text = status && status.querySelector("[data-upload-status-text]");
    var fileInputs = form.querySelectorAll("input[type=file]");
    var busy = false;
    if (!bar || !text || !(maxBytes > 0)) {
      return; // nothing to show progress in: leave the form to the browser
    }

    Array.prototype.forEach.call(fileInputs, function (input) {
      input.addEventListener("change", function () { checkSize(input, maxBytes); });
      checkSize(input, maxBytes); // some browsers keep a file chosen before going back or reloading
    });

    function fail(message) {
      busy = false;
      bar.hidden = true;
      text.classList.add("error");
      text.textContent = message;
    }

    form.addEventListener("submit", function (event) {
      if (!("submitter" in event)) {
        return; // an old browser cannot tell which button was pressed: let it submit the form itself
      }
      event.preventDefault();
      if (busy) {
        return;
      }
      var tooLarge = Array.prototype.filter.call(fileInputs, function (input) { return !checkSize(input, maxBytes); });
      if (tooLarge.length) {
        tooLarge[0].focus();
        return;
      }

      var data = new FormData(form);
      var submitter = event.submitter;
      if (submitter && submitter.name) {
        data.append(submitter.name, submitter.value); // "preview" or "calculate", as the browser would send
      }
      // Show the progress under the button that was pressed, where the reporter is looking.
      var anchor = submitter && submitter.closest("p");
      if (anchor && anchor.nextElementSibling !== status) {
        anchor.after(status);
      }

      var xhr = new XMLHttpRequest();
      var lastAnnounced = 0;
      busy = true; // no aria-busy on the form: it would hush the live status line inside it
      text.classList.remove("error");
      bar.hidden = false;
      bar.removeAttribute("value"); // indeterminate until the browser reports the size
      text.textContent = "Uploading…";
      status.hidden = false;

      xhr.upload.addEventListener("progress", function (progress) {
        if (!progress.lengthComputable) {
          return;
        }
        bar.max = progress.total;
        bar.value = progress.loaded;
        var now = Date.now();
        if (now - lastAnnounced >= ANNOUNCE_EVERY_MS) {
          lastAnnounced = now;
          text.textContent = progressText("Uploading", progress.loaded, progress.total);
        }
      });
      xhr.upload.addEventListener("load", function () {
        if (bar.hasAttribute("value")) {
          bar.value = bar.max;
          text.textContent = progressText("Uploaded", bar.max, bar.max) + ". Checking your report…";
        } else {
          text.textContent = "Uploaded. Checking your report…";
        }
      });
      xhr.addEventListener("load", function () {
        if (/^text\/html/i.test(xhr.getResponseHeader("Content-Type") || "")) {
          showAnswer(xhr);
        } else {
          fail("The server gave an unexpected answer (status " + xhr.status + "). Please try again.");
        }
      });
      xhr.addEventListener("error", function () {
        fail("The upload was interrupted. Check your connection and submit again.");
      });
      xhr.open("POST", form.action);
      xhr.send(data);
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-upload-progress]"), init);
})();
