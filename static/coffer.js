// Coffer's admin script: uploads with per-file progress and drag and drop, dates in the
// browser's locale, "select all", the focal point of an image set by clicking its preview,
// and copy buttons beside the links a page shows. Everything works without it; this only makes it nicer.
"use strict";

// Dates in the browser's locale (the UTC date stays in the tooltip).
function localiseTimes(root) {
  for (const t of root.querySelectorAll("time[datetime]")) {
    const d = new Date(t.getAttribute("datetime"));
    if (!Number.isNaN(d.getTime())) {
      t.title = t.getAttribute("datetime");
      t.textContent = d.toLocaleString();
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  localiseTimes(document);
  const section = document.getElementById("upload");
  if (section) setUpUploads(section);
  setUpFocalPoint();
  setUpCopyButtons();
  document.addEventListener("change", selectionChanged);
  showSelectAll();
});

// The listing's "all" box: shown only with this script, it ticks or clears every item; it
// shows as mixed when some are ticked, and the bar says how many are.
function showSelectAll() {
  const box = document.querySelector("input[data-select-all]");
  if (box) box.closest("label").hidden = false;
  selectionChanged();
}

function selectionChanged(e) {
  const form = document.querySelector("form.bulk");
  if (!form) return;
  const items = [...form.querySelectorAll("input[name=item]")];
  const all = form.querySelector("input[data-select-all]");
  if (e && e.target === all) {
    for (const box of items) box.checked = all.checked;
  }
  const ticked = items.filter((box) => box.checked).length;
  if (all) {
    all.checked = items.length > 0 && ticked === items.length;
    all.indeterminate = ticked > 0 && ticked < items.length;
  }
  const count = form.querySelector(".selected-count");
  if (count) count.textContent = ticked ? ticked + " selected" : "";
}

// A "Copy" button after every link marked `data-copy`: it copies the link's full URL. Where
// the clipboard is refused (an origin that is not secure), it selects the link instead, for
// Ctrl+C.
function setUpCopyButtons() {
  for (const a of document.querySelectorAll("a[data-copy]")) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy the link " + a.textContent.trim());
    button.addEventListener("click", async () => {
      const url = new URL(a.getAttribute("href"), document.baseURI).href;
      try {
        await navigator.clipboard.writeText(url);
        button.textContent = "Copied";
      } catch {
        const range = document.createRange();
        range.selectNodeContents(a);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        button.textContent = "Press Ctrl+C";
      }
      setTimeout(() => { button.textContent = "Copy"; }, 2000);
    });
    a.after(" ", button);
  }
}

// On an image's file page: the "Subject location (x,y)" text field becomes a hidden field
// set by clicking the preview, or from the keyboard with the preview focused (arrow keys move
// the point by 1 % of the image, 10 % with Shift; Delete clears it), shown as a marker, with
// a "Clear" button and an "Enlarge" one.
function setUpFocalPoint() {
  const frame = document.getElementById("preview");
  const input = document.getElementById("subject_location");
  const field = document.getElementById("focal-field");
  const widget = document.getElementById("focal-widget");
  if (!frame || !input || !field || !widget || !frame.dataset.width) return;
  const width = Number(frame.dataset.width);
  const height = Number(frame.dataset.height);
  const img = frame.querySelector("img");
  const marker = frame.querySelector(".focal-marker");
  const status = widget.querySelector(".focal-status");
  const clear = document.getElementById("focal-clear");
  if (!(width > 0 && height > 0) || !img || !marker || !status || !clear) return;

  const parse = (value) => {
    const m = /^\s*\(?\s*(\d+)\s*,\s*(\d+)\s*\)?\s*$/.exec(value);
    return m ? [Number(m[1]), Number(m[2])] : null;
  };
  const show = () => {
    const point = parse(input.value);
    const inside = point && point[0] < width && point[1] < height;
    marker.hidden = !inside;
    if (inside) {
      marker.style.left = ((point[0] + 0.5) * 100 / width) + "%";
      marker.style.top = ((point[1] + 0.5) * 100 / height) + "%";
      status.textContent = "x " + point[0] + ", y " + point[1];
    } else if (input.value.trim()) {
      status.textContent = input.value.trim() + " (not a point inside the image)";
    } else {
      status.textContent = "the centre";
    }
    clear.hidden = !input.value.trim();
  };

  input.type = "hidden";
  field.hidden = true;
  widget.hidden = false;
  frame.classList.add("pickable");
  img.addEventListener("click", (e) => {
    const box = img.getBoundingClientRect();
    if (!box.width || !box.height) return;
    const at = (offset, size, total) =>
      Math.min(total - 1, Math.max(0, Math.floor((offset / size) * total)));
    input.value = at(e.clientX - box.left, box.width, width) + "," +
      at(e.clientY - box.top, box.height, height);
    show();
  });
  img.tabIndex = 0;
  img.setAttribute("aria-describedby", "focal-help");
  img.addEventListener("keydown", (e) => {
    const steps = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (e.key === "Delete" || e.key === "Backspace") {
      input.value = "";
    } else if (steps[e.key]) {
      const point = parse(input.value);
      const from = point && point[0] < width && point[1] < height
        ? point
        : [Math.floor(width / 2), Math.floor(height / 2)];
      const share = e.shiftKey ? 0.1 : 0.01;
      const move = (at, step, total) =>
        Math.min(total - 1, Math.max(0, at + step * Math.max(1, Math.round(total * share))));
      input.value = move(from[0], steps[e.key][0], width) + "," +
        move(from[1], steps[e.key][1], height);
    } else {
      return;
    }
    e.preventDefault();
    show();
  });
  clear.addEventListener("click", () => {
    input.value = "";
    show();
  });
  // "Enlarge": the preview takes the page's width, drawn from the image itself when the
  // browser can draw it, so the point can be set precisely; the same button makes it small.
  const enlarge = document.getElementById("focal-enlarge");
  const page = frame.closest(".file-page");
  if (enlarge && page) {
    enlarge.addEventListener("click", () => {
      const large = page.classList.toggle("enlarged");
      enlarge.setAttribute("aria-pressed", String(large));
      enlarge.textContent = large ? "Make smaller" : "Enlarge";
      if (large && frame.dataset.full && img.getAttribute("src") !== frame.dataset.full) {
        img.removeAttribute("srcset");
        img.src = frame.dataset.full;
      }
      frame.scrollIntoView({ block: "nearest" });
    });
  }
  show();
}

// Before sending, asks the server which of the names are already taken where the files go
// and, if any is, asks the person once: replace (a new version), keep both, or skip.
// Returns a Map from each taken name to the choice.
async function askAboutTakenNames(folder, files) {
  const params = new URLSearchParams({ folder });
  for (const f of files) params.append("name", f.name);
  let taken = [];
  try {
    const res = await fetch("/uploads/taken?" + params, { credentials: "same-origin" });
    if (res.ok) taken = (await res.json()).taken || [];
  } catch (_) {
    // Unanswered: the server keeps both, as it does by default.
  }
  if (!taken.length) return new Map();
  const choice = await new Promise((resolve) => {
    const dialog = document.createElement("dialog");
    dialog.className = "conflict";
    dialog.setAttribute("aria-labelledby", "conflict-title");
    const title = document.createElement("h2");
    title.id = "conflict-title";
    title.textContent = taken.length === 1
      ? "“" + taken[0] + "” is already here"
      : taken.length + " files of these names are already here";
    const names = document.createElement("ul");
    for (const n of taken.slice(0, 10)) {
      const li = document.createElement("li");
      li.textContent = n;
      names.append(li);
    }
    const actions = document.createElement("div");
    actions.className = "actions";
    for (const [value, label] of [
      ["version", "Replace (keep the old one as a version)"],
      ["rename", "Keep both"],
      ["skip", "Skip"],
    ]) {
      const b = document.createElement("button");
      b.type = "button";
      b.value = value;
      b.textContent = label;
      if (value !== "version") b.className = "secondary";
      b.addEventListener("click", () => dialog.close(value));
      actions.append(b);
    }
    dialog.append(title, names, actions);
    // Escape closes without a choice: nothing is replaced.
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue || "skip");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
  return new Map(taken.map((n) => [n, choice]));
}

function setUpUploads(section) {
  const form = section.querySelector("form");
  const input = form.querySelector("input[type=file]");
  const list = section.querySelector(".progress-list");
  const maxSize = Number(section.dataset.maxSize);
  const csrf = section.dataset.csrf;
  const folder = section.dataset.folder;
  // The admin posts to /admin/upload with the folder in the form; the reader's folder page
  // posts to its own address, which names the folder.
  const action = section.dataset.action || "/admin/upload";
  const listing = section.dataset.listing || "form.bulk";
  const queue = [];
  let running = 0;
  // With scripts, the question comes when a name is taken (see askAboutTakenNames); the
  // form's own choice is for sending without scripts.
  const choiceField = form.querySelector(".on-conflict");
  if (choiceField) choiceField.hidden = true;

  const enqueue = async (chosen) => {
    const files = Array.from(chosen);
    // A drop link's visitor is asked nothing: they may not know what is there.
    const choices = "noQuestions" in section.dataset ? new Map() : await askAboutTakenNames(folder, files);
    for (const file of files) {
      const item = document.createElement("li");
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = file.name;
      const bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", "Upload progress of " + file.name);
      const status = document.createElement("span");
      status.className = "status";
      item.append(name, bar, status);
      list.append(item);
      if (file.size > maxSize) {
        item.classList.add("failed");
        status.textContent = "too large (limit " + Math.round(maxSize / 1048576) + " MiB)";
        continue;
      }
      const onConflict = choices.get(file.name) || "rename";
      if (onConflict === "skip") {
        item.classList.add("skipped");
        bar.remove();
        status.textContent = "skipped: a file of that name is already here";
        continue;
      }
      queue.push({ file, item, bar, status, onConflict });
    }
    pump();
  };

  const pump = () => {
    while (running < 2 && queue.length) {
      running += 1;
      send(queue.shift()).finally(() => { running -= 1; pump(); });
    }
  };

  // New rows appear as each upload finishes: the listing is read again from this page's
  // URL and swapped in, keeping the ticked items ticked. One read at a time; uploads that
  // finish meanwhile are picked up by one more read.
  let reading = false;
  let readAgain = false;
  const refreshListing = async () => {
    if (reading) { readAgain = true; return; }
    reading = true;
    do {
      readAgain = false;
      try {
        const res = await fetch(window.location.href, { credentials: "same-origin" });
        if (!res.ok) break;
        const fresh = new DOMParser()
          .parseFromString(await res.text(), "text/html")
          .querySelector(listing);
        const current = document.querySelector(listing);
        if (!fresh || !current) break;
        const ticked = new Set(
          [...current.querySelectorAll("input[name=item]:checked")].map((box) => box.value));
        for (const box of fresh.querySelectorAll("input[name=item]")) box.checked = ticked.has(box.value);
        const adopted = document.importNode(fresh, true);
        current.replaceWith(adopted);
        localiseTimes(adopted);
        showSelectAll();
      } catch (_) {
        break; // the rows come with the next page load
      }
    } while (readAgain);
    reading = false;
  };

  const send = ({ file, item, bar, status, onConflict }) => new Promise((resolve) => {
    const data = new FormData();
    data.append("csrf_token", csrf);
    if (!section.dataset.action) data.append("folder", folder);
    if (!("noQuestions" in section.dataset)) data.append("on_conflict", onConflict);
    data.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", action);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) bar.value = Math.min(99, Math.floor((e.loaded / e.total) * 100));
    });
    xhr.addEventListener("load", () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) {
        bar.value = 100;
        item.classList.add("done");
        status.textContent = onConflict === "version" ? "replaced (the old content is kept as a version)" : "done";
        refreshListing();
      } else {
        item.classList.add("failed");
        status.textContent = body.error || ("failed (" + xhr.status + ")");
      }
      resolve();
    });
    xhr.addEventListener("error", () => {
      item.classList.add("failed");
      status.textContent = "failed (network error)";
      resolve();
    });
    xhr.send(data);
  });

  form.addEventListener("submit", (e) => {
    if (!input.files.length) return;
    e.preventDefault();
    enqueue(input.files);
    input.value = "";
  });
  input.addEventListener("change", () => {
    if (input.files.length) {
      enqueue(input.files);
      input.value = "";
    }
  });
  document.addEventListener("dragover", (e) => {
    if (e.dataTransfer && Array.from(e.dataTransfer.types).includes("Files")) {
      e.preventDefault();
      document.body.classList.add("dropping");
    }
  });
  document.addEventListener("dragleave", () => document.body.classList.remove("dropping"));
  document.addEventListener("drop", (e) => {
    if (e.dataTransfer && e.dataTransfer.files.length) {
      e.preventDefault();
      document.body.classList.remove("dropping");
      enqueue(e.dataTransfer.files);
    }
  });
}
