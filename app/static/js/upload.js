// Upload with a progress bar; without JavaScript the form posts normally.
(function () {
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  var bar = document.getElementById("upload-progress");
  var label = document.getElementById("upload-progress-label");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) { return; }
      var percent = Math.round(e.loaded / e.total * 100);
      bar.value = percent;
      label.textContent = percent < 100 ? percent + "%" : label.dataset.processing;
    });
    request.addEventListener("load", function () {
      document.open();
      document.write(request.responseText);
      document.close();
    });
    request.addEventListener("error", function () { label.textContent = label.dataset.failed; });
    bar.hidden = false;
    form.querySelector("button[type=submit]").disabled = true;
    request.send(new FormData(form));
  });
})();
