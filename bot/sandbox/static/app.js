// The sandbox page: one Telegram-like chat pane per person, talking to the Bot API
// emulator's control API. Every node is built with createElement/textContent: the
// bot's texts and what people type are data, never markup.
"use strict";

(() => {
  const state = {
    instance: null,
    botUsername: "",
    botName: "Bot",
    zone: "Europe/Stockholm",
    people: new Map(), // user_id -> {person, pane}
    commands: new Map(), // language -> Promise<[{command, description}]>
    clock: { now: null, fetchedAt: 0 },
    queries: new Map(), // callback_query_id -> pane, until the bot answers
    answers: new Map(), // answers that arrived before the press request returned
    events: null,
    loading: true,
    buffered: [],
    retryDelay: 500,
  };

  // -- small helpers ---------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("data-") || key.startsWith("aria-") || key === "role" ||
               key === "title" || key === "type" || key === "tabindex") {
        node.setAttribute(key, String(value));
      } else node[key] = value;
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  async function api(method, path, body) {
    const options = { method, headers: {} };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (!response.ok) {
      const reason = data && data.error ? data.error : `${response.status} ${response.statusText}`;
      throw new Error(reason);
    }
    return data;
  }

  // Only these schemes become clickable; anything else (javascript:, data:, tg:) stays text.
  function safeHref(url) {
    try {
      const parsed = new URL(url, "https://invalid.example/");
      if (["http:", "https:", "mailto:", "tel:"].includes(parsed.protocol)) return parsed.href;
    } catch (_) {
      // not a URL at all
    }
    return null;
  }

  // The start parameter of https://t.me/<our bot>?start=<code>, or null.
  function startCode(url) {
    let parsed;
    try {
      parsed = new URL(url);
    } catch (_) {
      return null;
    }
    const host = parsed.hostname.toLowerCase();
    if (!["t.me", "telegram.me", "www.t.me"].includes(host)) return null;
    const bot = parsed.pathname.replace(/^\/+|\/+$/g, "");
    if (!bot || (state.botUsername && bot.toLowerCase() !== state.botUsername.toLowerCase())) {
      return null;
    }
    const code = parsed.searchParams.get("start");
    return code && /^[A-Za-z0-9_-]{1,64}$/.test(code) ? code : null;
  }

  // A link inside a pane: a bot start link is "opened" by that pane's person, like
  // tapping it in Telegram; other web links open in a new tab.
  function link(text, url, pane) {
    const href = safeHref(url);
    if (!href) return el("span", { class: "bad-link", text, title: "link not supported here" });
    const anchor = el("a", { href, text, rel: "noopener noreferrer", target: "_blank" });
    const code = startCode(href);
    if (code !== null) {
      anchor.classList.add("start-link");
      anchor.title = "Open as this pane's person (sends /start)";
      anchor.addEventListener("click", (event) => {
        event.preventDefault();
        const owner = pane || event.target.closest(".pane");
        if (owner) sendText(owner, `/start ${code}`);
      });
    }
    return anchor;
  }

  const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"']+|\bt\.me\/[A-Za-z0-9_]+(?:\?[^\s<>"']*)?/g;

  // Plain text with bare URLs turned into links, as Telegram clients do.
  function appendPlain(parent, text, pane, linkify) {
    if (!text) return;
    if (!linkify) {
      parent.append(document.createTextNode(text));
      return;
    }
    let last = 0;
    for (const match of text.matchAll(URL_IN_TEXT)) {
      let found = match[0];
      const trail = found.match(/[.,;:!?)\]]+$/);
      if (trail) found = found.slice(0, -trail[0].length);
      if (!found) continue;
      parent.append(document.createTextNode(text.slice(last, match.index)));
      const url = found.startsWith("t.me/") ? `https://${found}` : found;
      parent.append(link(found, url, pane));
      last = match.index + found.length;
    }
    parent.append(document.createTextNode(text.slice(last)));
  }

  function entityNode(entity) {
    switch (entity.type) {
      case "bold": return el("strong");
      case "italic": return el("em");
      case "underline": return el("u");
      case "strikethrough": return el("s");
      case "code": return el("code");
      case "pre": return el("pre", { class: "pre" });
      case "blockquote":
      case "expandable_blockquote": return el("blockquote");
      case "spoiler": {
        const node = el("span", { class: "spoiler", title: "spoiler: click to show" });
        node.addEventListener("click", () => node.classList.add("revealed"));
        return node;
      }
      default: return el("span", { class: `entity-${String(entity.type).replace(/\W/g, "")}` });
    }
  }

  // Entity offsets are UTF-16 code units, which is exactly how JavaScript indexes strings.
  function renderEntities(parent, text, entities, start, end, pane, linkify) {
    let position = start;
    let i = 0;
    while (i < entities.length) {
      const entity = entities[i];
      const from = Math.max(entity.offset, start);
      const to = Math.min(entity.offset + entity.length, end);
      if (from < position || to <= from) {
        i += 1; // overlapping or empty: Telegram HTML never produces it, so skip it
        continue;
      }
      appendPlain(parent, text.slice(position, from), pane, linkify);
      const inner = [];
      let j = i + 1;
      while (j < entities.length && entities[j].offset < to) inner.push(entities[j++]);
      const piece = text.slice(from, to);
      let node;
      if (entity.type === "text_link") node = link(piece, entity.url || "", pane);
      else if (entity.type === "url") node = link(piece, piece, pane);
      else if (entity.type === "email") node = link(piece, `mailto:${piece}`, pane);
      else if (entity.type === "phone_number") node = link(piece, `tel:${piece}`, pane);
      else node = entityNode(entity);
      if (node.tagName === "A" || node.classList.contains("bad-link")) {
        node.textContent = "";
        renderEntities(node, text, inner, from, to, pane, false);
      } else {
        const plainInside = !["code", "pre"].includes(entity.type) && linkify;
        renderEntities(node, text, inner, from, to, pane, plainInside);
      }
      parent.append(node);
      position = to;
      i = j;
    }
    appendPlain(parent, text.slice(position, end), pane, linkify);
  }

  function formatted(text, entities, pane) {
    const node = el("div", { class: "text" });
    const sorted = [...(entities || [])]
      .filter((e) => Number.isInteger(e.offset) && Number.isInteger(e.length))
      .sort((a, b) => a.offset - b.offset || b.length - a.length);
    renderEntities(node, text || "", sorted, 0, (text || "").length, pane, true);
    return node;
  }

  function size(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  // -- people and panes ------------------------------------------------------------------

  function addPane(person) {
    if (state.people.has(person.user_id)) return state.people.get(person.user_id).pane;
    const list = el("ol", { class: "messages", "aria-label": `Chat of ${person.label}` });
    const input = el("textarea", {
      rows: 1,
      title: "Message or /command – Enter sends, Shift+Enter starts a new line",
      "aria-label": `Message as ${person.first_name}`,
    });
    const menuList = el("ul", { class: "command-list", role: "menu" });
    const menu = el("div", { class: "command-menu", hidden: true }, menuList);
    const menuButton = el("button", {
      type: "button",
      class: "menu-button",
      title: "Commands",
      "aria-label": "Commands",
      "aria-expanded": "false",
      text: "/",
    });
    const sendButton = el("button", { type: "submit", class: "send", text: "Send" });
    const composer = el("form", { class: "composer" }, menuButton, input, sendButton);
    const initial = person.first_name.trim().charAt(0).toUpperCase() || "?";
    const pane = el(
      "section",
      {
        class: "pane",
        "data-user-id": person.user_id,
        "data-name": person.first_name,
        "aria-label": person.label,
      },
      el(
        "header",
        { class: "pane-head" },
        el("div", { class: "avatar", "aria-hidden": "true", text: initial }),
        el(
          "div",
          { class: "who" },
          el("h2", { text: person.label }),
          el("small", { text: `${person.language_code} · chat with ${state.botName}` }),
        ),
      ),
      list,
      menu,
      composer,
    );
    pane.person = person;
    pane.list = list;
    pane.input = input;
    hue(pane, person.user_id);

    composer.addEventListener("submit", (event) => {
      event.preventDefault();
      submit(pane);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit(pane);
      }
    });
    input.addEventListener("input", () => {
      input.style.height = "auto";
      input.style.height = `${Math.min(input.scrollHeight, 140)}px`;
    });
    menuButton.addEventListener("click", () => toggleMenu(pane, menu, menuList, menuButton));

    document.getElementById("panes").append(pane);
    state.people.set(person.user_id, { person, pane });
    return pane;
  }

  function hue(pane, id) {
    pane.style.setProperty("--accent-hue", String((id * 137) % 360));
  }

  function submit(pane) {
    const text = pane.input.value;
    if (!text.trim()) return;
    pane.input.value = "";
    pane.input.style.height = "auto";
    sendText(pane, text);
  }

  async function sendText(pane, text) {
    try {
      const message = await api("POST", "/control/send", { user_id: pane.person.user_id, text });
      upsert(pane, { from: "user", message_id: message.message_id, text: message.text });
    } catch (error) {
      toast(pane, `Could not send: ${error.message}`, true);
    }
  }

  async function commandsFor(language) {
    if (state.commands.has(language)) return state.commands.get(language);
    let found = [];
    try {
      found = await api("GET", `/control/commands?language_code=${encodeURIComponent(language)}`);
      if (!found.length) found = await api("GET", "/control/commands");
    } catch (_) {
      found = [];
    }
    // An empty menu is not kept: the bot may not have registered it yet.
    if (found.length) state.commands.set(language, found);
    return found;
  }

  async function toggleMenu(pane, menu, list, button) {
    if (!menu.hidden) {
      menu.hidden = true;
      button.setAttribute("aria-expanded", "false");
      return;
    }
    const commands = await commandsFor(pane.person.language_code);
    list.replaceChildren(
      ...(commands.length
        ? commands.map((command) => {
          const item = el(
            "button",
            { type: "button", role: "menuitem", class: "command" },
            el("span", { class: "command-name", text: `/${command.command}` }),
            el("span", { class: "command-description", text: command.description }),
          );
          item.addEventListener("click", () => {
            menu.hidden = true;
            button.setAttribute("aria-expanded", "false");
            sendText(pane, `/${command.command}`);
          });
          return el("li", {}, item);
        })
        : [el("li", { class: "empty", text: "The bot has registered no commands yet." })]),
    );
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
  }

  // -- messages --------------------------------------------------------------------------

  function nearBottom(list) {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  function place(pane, node, key) {
    const list = pane.list;
    const follow = nearBottom(list);
    node.dataset.sortKey = String(key);
    const existing = [...list.children].find((child) => Number(child.dataset.sortKey) > key);
    list.insertBefore(node, existing || null);
    if (follow || node.classList.contains("from-user") || node.classList.contains("forwarded")) {
      list.scrollTop = list.scrollHeight;
    }
  }

  function find(pane, key) {
    return [...pane.list.children].find((child) => child.dataset.key === key) || null;
  }

  // Adds or replaces one message. `item` is a bot message (SentMessage.to_dict() with
  // from: "bot") or a typed one ({from: "user", message_id, text}).
  function upsert(pane, item) {
    const key = `${item.from}:${item.message_id}`;
    const old = find(pane, key);
    if (item.from === "bot" && item.deleted) {
      if (old) old.remove();
      return;
    }
    if (old && item.from === "user") return; // typed messages never change
    const node = item.from === "bot" ? botMessage(pane, item) : userMessage(pane, item);
    node.dataset.key = key;
    if (old) {
      node.dataset.sortKey = old.dataset.sortKey;
      old.replaceWith(node);
    } else {
      place(pane, node, Number(item.message_id));
    }
  }

  function media(item) {
    if (!item.file_url || !item.file) return null;
    const name = item.file.file_name || "file";
    if (item.kind === "photo") {
      return el("a", { href: item.file_url, target: "_blank", rel: "noopener" },
        el("img", { class: "photo", src: item.file_url, alt: name, loading: "lazy" }));
    }
    return el(
      "a",
      { class: "document", href: item.file_url, download: name },
      el("span", { class: "doc-icon", "aria-hidden": "true", text: "📄" }),
      el(
        "span",
        { class: "doc-text" },
        el("span", { class: "doc-name", text: name }),
        el("small", { text: `${item.file.mime_type || ""} · ${size(item.file.size || 0)}` }),
      ),
    );
  }

  function bubbleBody(pane, item) {
    const parts = [];
    const attachment = media(item);
    if (attachment) parts.push(attachment);
    const text = item.kind && item.kind !== "text" ? item.caption || "" : item.text || "";
    if (text) parts.push(formatted(text, item.entities, pane));
    return parts;
  }

  function forwardButton(pane, item, sender) {
    const button = el("button", {
      type: "button",
      class: "forward",
      text: "Forward to…",
      title: "Copy this message into another person's chat",
    });
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      openForwardMenu(button, pane, item, sender);
    });
    return button;
  }

  function botMessage(pane, item) {
    const meta = el(
      "div",
      { class: "meta" },
      item.edit_date ? el("span", { class: "edited", text: "edited" }) : null,
      forwardButton(pane, item, state.botName),
    );
    const bubble = el("div", { class: "bubble" }, ...bubbleBody(pane, item), meta);
    const node = el("li", { class: "msg from-bot", "data-message-id": item.message_id }, bubble);
    const keyboard = inlineKeyboard(pane, item);
    if (keyboard) node.append(keyboard);
    return node;
  }

  function userMessage(pane, item) {
    const text = el("div", { class: "text", text: item.text || "" });
    const meta = el("div", { class: "meta" }, forwardButton(pane, item, pane.person.first_name));
    return el(
      "li",
      { class: "msg from-user", "data-message-id": item.message_id },
      el("div", { class: "bubble" }, text, meta),
    );
  }

  function inlineKeyboard(pane, item) {
    const rows = (item.reply_markup && item.reply_markup.inline_keyboard) || [];
    if (!rows.length) return null;
    const keyboard = el("div", { class: "keyboard" });
    for (const row of rows) {
      const line = el("div", { class: "kb-row" });
      for (const button of row) {
        line.append(keyboardButton(pane, item, button));
      }
      keyboard.append(line);
    }
    return keyboard;
  }

  function keyboardButton(pane, item, button) {
    const label = String(button.text || "");
    if (typeof button.callback_data === "string") {
      const node = el("button", { type: "button", class: "kb-button", text: label });
      node.addEventListener("click", () => press(pane, item.message_id, button.callback_data, node));
      return node;
    }
    if (typeof button.url === "string") {
      const anchor = link(label, button.url, pane);
      anchor.classList.add("kb-button");
      return anchor;
    }
    return el("button", {
      type: "button",
      class: "kb-button",
      text: label,
      disabled: true,
      title: "this kind of button is not emulated",
    });
  }

  async function press(pane, messageId, data, node) {
    node.classList.add("pressed");
    try {
      const answer = await api("POST", "/control/press", {
        user_id: pane.person.user_id,
        message_id: messageId,
        callback_data: data,
      });
      const id = answer.callback_query_id;
      if (state.answers.has(id)) {
        showAnswer(pane, state.answers.get(id));
        state.answers.delete(id);
      } else {
        state.queries.set(id, pane);
        setTimeout(() => state.queries.delete(id), 15000);
      }
    } catch (error) {
      toast(pane, `Could not press the button: ${error.message}`, true);
    } finally {
      setTimeout(() => node.classList.remove("pressed"), 400);
    }
  }

  function showAnswer(pane, answer) {
    if (answer && answer.text) toast(pane, String(answer.text), Boolean(answer.show_alert));
  }

  function toast(pane, text, important) {
    const note = el("div", { class: important ? "toast alert" : "toast", role: "status", text });
    pane.append(note);
    setTimeout(() => note.remove(), important ? 6000 : 3000);
  }

  // -- forwarding (client-side only, like a copy the person pastes) ----------------------

  let openMenu = null;

  function closeForwardMenu() {
    if (openMenu) openMenu.remove();
    openMenu = null;
  }

  function openForwardMenu(anchor, pane, item, sender) {
    closeForwardMenu();
    const others = [...state.people.values()].filter((entry) => entry.pane !== pane);
    const menu = el("div", { class: "forward-menu", role: "menu", "aria-label": "Forward to" });
    menu.append(el("div", { class: "forward-title", text: "Forward to…" }));
    if (!others.length) menu.append(el("div", { class: "empty", text: "Add a person first." }));
    for (const { person, pane: target } of others) {
      const choice = el("button", { type: "button", role: "menuitem", text: person.label });
      choice.addEventListener("click", () => {
        closeForwardMenu();
        forward(target, item, sender);
      });
      menu.append(choice);
    }
    document.body.append(menu);
    const box = anchor.getBoundingClientRect();
    menu.style.left = `${Math.min(box.left + window.scrollX, window.innerWidth - 240)}px`;
    menu.style.top = `${box.bottom + window.scrollY + 4}px`;
    openMenu = menu;
  }

  document.addEventListener("click", (event) => {
    if (openMenu && !openMenu.contains(event.target)) closeForwardMenu();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeForwardMenu();
  });

  let forwards = 0;

  function forward(target, item, sender) {
    forwards += 1;
    const copy = { ...item, reply_markup: null, edit_date: null };
    const head = el("div", { class: "forward-head", text: `Forwarded from ${sender}` });
    const body =
      item.from === "bot" ? bubbleBody(target, copy) : [el("div", { class: "text", text: item.text })];
    const note = el("div", { class: "meta" }, el("span", { text: "copied in this page only" }));
    const node = el(
      "li",
      { class: "msg from-user forwarded", title: "Forwarded (a copy made by this page)" },
      el("div", { class: "bubble" }, head, ...body, note),
    );
    node.dataset.key = `fwd:${forwards}`;
    const keys = [...target.list.children].map((child) => Number(child.dataset.sortKey) || 0);
    place(target, node, Math.max(0, ...keys) + 0.0001);
    node.classList.add("flash");
  }

  // -- history and live events -----------------------------------------------------------

  async function loadHistory(pane) {
    const items = await api("GET", `/sandbox/chats/${pane.person.user_id}/history`);
    for (const item of items) upsert(pane, item);
  }

  function paneOf(chatId) {
    const entry = state.people.get(Number(chatId));
    return entry ? entry.pane : null;
  }

  function apply(event) {
    const { kind, data } = event;
    if (kind === "callback_answer") {
      const pane = state.queries.get(data.callback_query_id);
      if (pane) {
        state.queries.delete(data.callback_query_id);
        showAnswer(pane, data);
      } else {
        state.answers.set(data.callback_query_id, data);
        setTimeout(() => state.answers.delete(data.callback_query_id), 15000);
      }
      return;
    }
    const pane = paneOf(data.chat_id);
    if (!pane) {
      refreshPeople().catch(() => {}); // someone added in another tab
      return;
    }
    if (kind === "message") upsert(pane, { from: "bot", ...data.message });
    else if (kind === "user_message") {
      upsert(pane, { from: "user", message_id: data.message.message_id, text: data.message.text });
    }
  }

  function onEvent(kind) {
    return (raw) => {
      let data;
      try {
        data = JSON.parse(raw.data);
      } catch (_) {
        return;
      }
      if (state.loading) state.buffered.push({ kind, data });
      else apply({ kind, data });
    };
  }

  function setConnection(label, value) {
    const node = document.getElementById("connection");
    node.textContent = label;
    node.dataset.state = value;
  }

  function connect() {
    const source = new EventSource("/control/events");
    state.events = source;
    state.loading = true;
    state.buffered = [];
    for (const kind of ["message", "user_message", "callback_answer"]) {
      source.addEventListener(kind, onEvent(kind));
    }
    source.onopen = async () => {
      state.retryDelay = 500;
      setConnection("live", "live");
      // Subscribed first, then the history: events that arrive meanwhile are applied
      // after it, so the newest version of an edited message wins.
      try {
        const info = await api("GET", "/sandbox/info");
        if (state.instance && info.instance !== state.instance) {
          window.location.reload(); // a restarted sandbox: these chats no longer exist
          return;
        }
        info.people.forEach(addPane);
        await Promise.all([...state.people.values()].map(({ pane }) => loadHistory(pane)));
      } catch (error) {
        setConnection(`history failed: ${error.message}`, "error");
      }
      const pending = state.buffered;
      state.buffered = [];
      state.loading = false;
      pending.forEach(apply);
      document.body.dataset.ready = "true";
    };
    source.onerror = () => {
      // EventSource retries on its own only sometimes (not after the stream ended
      // cleanly, e.g. a restart); reconnecting ourselves makes it always.
      source.close();
      if (state.events !== source) return;
      setConnection("reconnecting…", "connecting");
      document.body.dataset.ready = "false";
      setTimeout(connect, state.retryDelay);
      state.retryDelay = Math.min(state.retryDelay * 2, 5000);
    };
  }

  async function refreshPeople() {
    const people = await api("GET", "/sandbox/people");
    for (const person of people) {
      if (!state.people.has(person.user_id)) {
        const pane = addPane(person);
        if (!state.loading) loadHistory(pane).catch(() => {});
      }
    }
  }

  // -- the bot's clock -------------------------------------------------------------------

  function showTime() {
    if (!state.clock.now) return;
    const now = new Date(state.clock.now.getTime() + (Date.now() - state.clock.fetchedAt));
    const format = new Intl.DateTimeFormat("en-GB", {
      timeZone: state.zone,
      weekday: "short",
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
    });
    const node = document.getElementById("bot-time");
    node.textContent = format.format(now);
    document.getElementById("zone").textContent = state.zone;
    node.dateTime = now.toISOString();
  }

  function takeTime(payload) {
    state.clock = { now: new Date(payload.now), fetchedAt: Date.now() };
    state.zone = payload.zone || state.zone;
    const next = document.getElementById("next-due");
    if (payload.next_due) {
      const due = new Date(payload.next_due);
      const format = new Intl.DateTimeFormat("en-GB", {
        timeZone: state.zone,
        day: "numeric",
        month: "short",
        hour: "2-digit",
        minute: "2-digit",
      });
      next.textContent = `queued next: ${format.format(due)}`;
    } else {
      // The planners may still have something in store: "next notification" finds it.
      next.textContent = "nothing queued";
    }
    showTime();
  }

  async function refreshTime() {
    try {
      takeTime(await api("GET", "/sandbox/time"));
    } catch (_) {
      // shown again at the next refresh
    }
  }

  function describeTravel(result) {
    const seconds = result.travelled_seconds || 0;
    const days = Math.floor(seconds / 86400);
    const hours = Math.floor((seconds % 86400) / 3600);
    const minutes = Math.floor((seconds % 3600) / 60);
    const span = [days && `${days} d`, hours && `${hours} h`, minutes && `${minutes} min`]
      .filter(Boolean)
      .join(" ");
    const sent = result.sent === 1 ? "1 message sent" : `${result.sent || 0} messages sent`;
    const missed = (result.not_delivered || []).length;
    const notSent = missed ? ` · ${missed} not sent` : "";
    return `${span ? `+${span}` : "no jump"} · ${sent}${notSent}`;
  }

  function personLabel(chatId) {
    const entry = state.people.get(Number(chatId));
    return entry ? entry.person.label : `chat ${chatId}`;
  }

  // What the jump did, in the order it happened: each message sent at its bot time, and
  // each one that was not sent with the rule that stopped it.
  function showTravelLog(step, result) {
    const format = new Intl.DateTimeFormat("en-GB", {
      timeZone: state.zone,
      weekday: "short",
      day: "numeric",
      month: "short",
      hour: "2-digit",
      minute: "2-digit",
    });
    const outcomes = [...(result.delivered || []), ...(result.not_delivered || [])].sort(
      (a, b) => new Date(a.at) - new Date(b.at),
    );
    const items = outcomes.map((outcome) => {
      const at = new Date(outcome.at);
      const sent = outcome.state === "sent";
      return el(
        "li",
        { "data-state": outcome.state, "data-kind": outcome.kind },
        el("time", { dateTime: at.toISOString(), text: format.format(at) }),
        el("span", { class: "what", text: `${outcome.what} → ${personLabel(outcome.chat_id)}` }),
        el("span", {
          class: "outcome",
          text: sent ? "sent" : `not sent: ${outcome.reason || outcome.state}`,
        }),
      );
    });
    if (!items.length) {
      const nothing =
        step === "next"
          ? `Nothing to send in the next ${result.horizon_days || 0} days: the clock stayed.`
          : "Nothing fell due on the way.";
      items.push(el("li", { class: "empty", text: nothing }));
    }
    document.getElementById("travel-log-title").textContent = describeTravel(result);
    document.getElementById("travel-log-items").replaceChildren(...items);
    document.getElementById("travel-log").hidden = false;
  }

  async function travel(step, buttons) {
    const status = document.getElementById("travel-status");
    buttons.forEach((button) => { button.disabled = true; });
    status.textContent = "travelling…";
    try {
      const result = await api("POST", "/sandbox/time", { step });
      takeTime(result);
      status.textContent = describeTravel(result);
      showTravelLog(step, result);
    } catch (error) {
      status.textContent = `time travel failed: ${error.message}`;
    } finally {
      buttons.forEach((button) => { button.disabled = false; });
    }
  }

  // -- start -----------------------------------------------------------------------------

  function wireHeader() {
    const buttons = [...document.querySelectorAll(".travel button[data-step]")];
    for (const button of buttons) {
      button.addEventListener("click", () => travel(button.dataset.step, buttons));
    }
    document.getElementById("travel-log-close").addEventListener("click", () => {
      document.getElementById("travel-log").hidden = true;
    });
    const form = document.getElementById("add-person");
    const toggle = document.getElementById("add-person-toggle");
    const error = document.getElementById("add-person-error");
    toggle.addEventListener("click", () => {
      form.hidden = !form.hidden;
      if (!form.hidden) document.getElementById("new-name").focus();
    });
    document.getElementById("add-person-cancel").addEventListener("click", () => {
      form.hidden = true;
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      const name = document.getElementById("new-name");
      try {
        const person = await api("POST", "/sandbox/people", {
          first_name: name.value,
          language_code: document.getElementById("new-language").value,
        });
        addPane(person);
        name.value = "";
        form.hidden = true;
      } catch (problem) {
        error.textContent = problem.message;
      }
    });
  }

  async function start() {
    wireHeader();
    try {
      const info = await api("GET", "/sandbox/info");
      state.instance = info.instance;
      state.botUsername = info.bot_username;
      state.botName = info.bot_name;
      state.zone = info.zone;
      info.people.forEach(addPane);
    } catch (error) {
      setConnection(`cannot reach the sandbox: ${error.message}`, "error");
    }
    connect();
    refreshTime();
    setInterval(refreshTime, 20000);
    setInterval(showTime, 1000);
  }

  start();
})();
