// The demo page: polls the sandbox for each persona's chat and sends what they type or press.
// Message text is shown with textContent and Telegram's entities rebuilt as DOM nodes: the
// page never parses HTML coming from a chat.
"use strict";

let version = -1;
const panes = new Map();

// The page's own words, in each persona's language (the bot's words come from the bot).
const LABELS = {
  ko: {send: "보내기", photo: "사진", photoTitle: "사진 보내기", placeholder: "메시지 쓰기… (/start)",
       hint: "Enter: 보내기 · Shift+Enter: 줄 바꾸기", ok: "확인", language: "한국어"},
  en: {send: "Send", photo: "Photo", photoTitle: "Send a photo", placeholder: "Message… (/start)",
       hint: "Enter: send · Shift+Enter: new line", ok: "OK", language: "English"},
};
const labels = persona => LABELS[persona.language] || LABELS.en;

// answerCallbackQuery's text: a short notice over the chat, or with show_alert a box to close.
function notify(persona, notice) {
  if (!notice || !notice.text) return;
  const {section} = pane(persona);
  const box = document.createElement("div");
  box.className = notice.show_alert ? "notice alert" : "notice toast";
  box.setAttribute("role", notice.show_alert ? "alertdialog" : "status");
  const text = document.createElement("p");
  text.textContent = notice.text;
  box.appendChild(text);
  if (notice.show_alert) {
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = labels(persona).ok;
    close.addEventListener("click", () => box.remove());
    box.appendChild(close);
  } else {
    setTimeout(() => box.remove(), 4000);
  }
  section.appendChild(box);
}

async function api(path, body) {
  const response = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
  });
  return response.json();
}

const TAGS = {bold: "strong", italic: "em", underline: "u", strikethrough: "s", code: "code",
              pre: "pre", spoiler: "span", blockquote: "blockquote",
              expandable_blockquote: "blockquote"};

function safeHref(url) {
  try {
    const parsed = new URL(url, location.href);
    return ["http:", "https:"].includes(parsed.protocol) ? parsed.href : null;
  } catch { return null; }
}

// Offsets are UTF-16 code units, exactly like JavaScript string indices.
function formatted(text, entities) {
  const fragment = document.createDocumentFragment();
  const cuts = new Set([0, text.length]);
  for (const e of entities) { cuts.add(e.offset); cuts.add(e.offset + e.length); }
  const points = [...cuts].filter(p => p >= 0 && p <= text.length).sort((a, b) => a - b);
  for (let i = 0; i + 1 < points.length; i++) {
    const [start, end] = [points[i], points[i + 1]];
    let node = document.createTextNode(text.slice(start, end));
    for (const e of entities) {
      if (e.offset > start || e.offset + e.length < end) continue;
      let wrapper = null;
      if (e.type === "text_link" || e.type === "url") {
        const href = safeHref(e.type === "url" ? text.slice(e.offset, e.offset + e.length) : e.url);
        if (href) { wrapper = document.createElement("a"); wrapper.href = href;
                    wrapper.target = "_blank"; wrapper.rel = "noopener noreferrer"; }
      } else if (TAGS[e.type]) {
        wrapper = document.createElement(TAGS[e.type]);
      }
      if (wrapper) { wrapper.appendChild(node); node = wrapper; }
    }
    fragment.appendChild(node);
  }
  return fragment;
}

function bubble(persona, message) {
  const element = document.createElement("div");
  element.className = "bubble " + message.from;
  element.dataset.messageId = message.id;
  if (message.kind === "photo" && message.file_id) {
    const image = document.createElement("img");
    image.src = "/demo/files/" + encodeURIComponent(message.file_id);
    image.alt = "photo";
    element.appendChild(image);
  } else if (message.kind === "photo") {
    element.appendChild(document.createTextNode("[photo] "));
  }
  if (message.kind === "document" && message.file_id) {
    const link = document.createElement("a");
    link.className = "document";
    link.href = "/demo/files/" + encodeURIComponent(message.file_id);
    link.download = message.file_name || "document";
    link.textContent = "⬇ " + (message.file_name || "document");
    element.appendChild(link);
    if (message.text) element.appendChild(document.createElement("br"));
  }
  element.appendChild(formatted(message.text || "", message.entities || []));
  if (message.edited) {
    const mark = document.createElement("span");
    mark.className = "edited";
    mark.textContent = "edited";
    element.appendChild(mark);
  }
  if (message.buttons && message.buttons.length) {
    const keyboard = document.createElement("div");
    keyboard.className = "keyboard";
    for (const row of message.buttons) {
      const line = document.createElement("div");
      line.className = "row";
      for (const button of row) {
        const press = document.createElement("button");
        press.type = "button";
        press.textContent = button.text;
        press.addEventListener("click", () => api("/demo/api/press", {
          persona: persona.user_id, message_id: message.id, data: button.data,
        }).then(answer => { notify(persona, answer.notice); return poll(); }));
        line.appendChild(press);
      }
      keyboard.appendChild(line);
    }
    element.appendChild(keyboard);
  }
  return element;
}

function pane(persona) {
  if (panes.has(persona.user_id)) return panes.get(persona.user_id);
  const section = document.createElement("section");
  section.className = "pane";
  section.dataset.persona = persona.user_id;
  const title = document.createElement("h2");
  title.textContent = persona.name;
  const role = document.createElement("small");
  role.textContent = persona.role + " · " + labels(persona).language;
  title.appendChild(role);
  const messages = document.createElement("div");
  messages.className = "messages";
  const form = document.createElement("form");
  // Letters are several lines long: Enter sends, Shift+Enter starts a new line.
  const input = document.createElement("textarea");
  input.rows = 2;
  input.placeholder = labels(persona).placeholder;
  input.title = labels(persona).hint;
  input.setAttribute("aria-label", "message from " + persona.name);
  const send = document.createElement("button");
  send.type = "submit";
  send.className = "send";
  send.textContent = labels(persona).send;
  const photo = document.createElement("button");
  photo.type = "button";
  photo.className = "photo";
  photo.textContent = labels(persona).photo;
  photo.title = labels(persona).photoTitle;
  photo.addEventListener("click", () => api("/demo/api/photo", {persona: persona.user_id}).then(poll));
  form.append(input, send, photo);
  input.addEventListener("keydown", event => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", event => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    api("/demo/api/send", {persona: persona.user_id, text}).then(poll);
  });
  section.append(title, messages, form);
  document.getElementById("panes").appendChild(section);
  const entry = {section, messages, shown: false};
  panes.set(persona.user_id, entry);
  return entry;
}

function render(personas) {
  for (const persona of personas) {
    const entry = pane(persona);
    const {messages} = entry;
    // Follow the newest message on load (and reload), and later unless the reader scrolled up.
    const atBottom = !entry.shown ||
      messages.scrollHeight - messages.scrollTop - messages.clientHeight < 40;
    messages.replaceChildren(...persona.messages.map(m => bubble(persona, m)));
    entry.shown = true;
    if (atBottom) toBottom(messages);
  }
}

// Scroll now, and again as photos finish loading and grow the chat.
function toBottom(messages) {
  messages.scrollTop = messages.scrollHeight;
  for (const image of messages.querySelectorAll("img")) {
    if (!image.complete) {
      image.addEventListener("load", () => { messages.scrollTop = messages.scrollHeight; },
                             {once: true});
    }
  }
}

async function poll() {
  try {
    const state = await api("/demo/api/state?since=" + version);
    if (!state.unchanged) { version = state.version; render(state.personas); }
  } catch (error) { /* the demo was stopped; keep trying quietly */ }
}

poll();
setInterval(poll, 700);
