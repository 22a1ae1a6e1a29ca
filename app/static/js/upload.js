// Upload several ride files at once, each with its own progress bar, through the same
// API the sensors use (the session cookie plus the page's CSRF token instead of a key).
(function () {
  const form = document.getElementById("upload-form");
  const list = document.getElementById("upload-results");
  if (!form || !window.FormData) return;
  const token = document.querySelector('meta[name="csrf-token"]').content;

  function uploadOne(file) {
    const item = document.createElement("li");
    const label = document.createElement("span");
    label.textContent = file.name + ": ";
    const bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    const status = document.createElement("span");
    item.append(label, bar, status);
    list.append(item);
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/rides");
      xhr.setRequestHeader("X-CSRFToken", token);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = 100 * e.loaded / e.total; };
      xhr.onload = () => {
        let body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
        bar.value = 100;
        if (xhr.status === 200 || xhr.status === 201) {
          item.className = "ok";
          const a = document.createElement("a");
          a.href = body.ride.url;
          a.textContent = xhr.status === 201 ? " uploaded, processing…" : " already uploaded";
          status.append(a);
        } else {
          item.className = "error";
          status.textContent = " " + ((body.error && body.error.message) || xhr.statusText);
        }
        resolve();
      };
      xhr.onerror = () => { item.className = "error"; status.textContent = " network error"; resolve(); };
      const data = new FormData();
      data.append("body", file, file.name);
      xhr.send(data);
    });
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const files = Array.from(form.querySelector('input[type="file"]').files);
    list.textContent = "";
    for (const file of files) await uploadOne(file);  // one at a time: fair to the rate limit
  });
})();
