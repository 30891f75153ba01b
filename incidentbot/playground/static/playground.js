// The playground page: polls what the chosen person sees and sends what they do.
//
// Message bodies, views and files arrive from the server already rendered as safe HTML (every
// character of people's and the bot's text escaped there); everything else this script builds
// with textContent. Each action is a JSON POST that the server turns into the signed request
// Slack would send the bot.
"use strict";

(() => {
  const POLL_MS = 500;
  const $ = (id) => document.getElementById(id);
  const store = window.localStorage;

  const view = {
    user: store.getItem("playground.user") || "UALICE",
    channel: store.getItem("playground.channel") || "CGENERAL",
    thread: null,
    home: false,
    homeTab: "home",
  };
  let state = null;
  let lastText = { messages: "", thread: "", home: "", channels: "", users: "" };
  let modalKey = null;
  let polling = false;
  let openMenu = null;
  let toastTimer = null;

  // ------------------------------------------------------------------ server

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user: view.user, ...body }),
    });
    let data = {};
    try {
      data = await response.json();
    } catch (_) {
      data = { error: `HTTP ${response.status}` };
    }
    if (!response.ok) {
      showError(data.error || `HTTP ${response.status}`);
      return null;
    }
    refresh();
    return data;
  }

  async function refresh() {
    if (polling) return;
    polling = true;
    try {
      const query = new URLSearchParams({ user: view.user });
      if (view.channel && !(view.home && view.homeTab === "home")) query.set("channel", view.channel);
      if (view.thread) query.set("thread", view.thread);
      if (view.home) query.set("home", "1");
      const response = await fetch(`/api/state?${query}`);
      if (!response.ok) {
        const data = await response.json().catch(() => ({}));
        showError(data.error || `HTTP ${response.status}`);
        return;
      }
      render(await response.json());
    } catch (error) {
      showError("The playground stopped answering; is it still running?");
    } finally {
      polling = false;
    }
  }

  function showError(message) {
    const toast = $("toast");
    toast.textContent = message;
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toast.hidden = true; }, 8000);
  }

  // ------------------------------------------------------------------ rendering

  function render(next) {
    state = next;
    renderPeople();
    renderChannels();
    renderMain();
    renderThread();
    renderModal();
  }

  function changed(key, value) {
    const text = JSON.stringify(value);
    if (lastText[key] === text) return false;
    lastText[key] = text;
    return true;
  }

  function renderPeople() {
    const me = state.me;
    $("me-time").textContent = `${me.real_name} · ${me.tz_label} · ${me.local_time}`;
    if (!changed("users", state.users.map((u) => [u.id, u.name, u.tz_label]))) return;
    const picker = $("user-picker");
    picker.replaceChildren(
      ...state.users.map((u) => {
        const option = document.createElement("option");
        option.value = u.id;
        option.textContent = `${u.real_name} (@${u.name}) — ${u.tz_label}`;
        option.selected = u.id === view.user;
        return option;
      }),
    );
  }

  function seenKey(channelId) {
    return `playground.seen.${view.user}.${channelId}`;
  }

  function renderChannels() {
    const current = view.home && view.homeTab === "home" ? null : view.channel;
    const entries = state.channels.map((c) => ({
      ...c,
      current: c.id === current,
      unread: c.id !== current && c.latest && c.latest > (store.getItem(seenKey(c.id)) || ""),
    }));
    $("home-link").classList.toggle("current", view.home && view.homeTab === "home");
    if (!changed("channels", entries)) return;
    const list = $("channel-list");
    const apps = $("app-list");
    apps.querySelectorAll(".dm-entry").forEach((li) => li.remove());
    list.replaceChildren();
    for (const c of entries) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = "#";
      a.className = "channel-entry";
      a.dataset.channel = c.id;
      if (c.current) a.classList.add("current");
      if (c.unread) a.classList.add("unread");
      if (!c.member) a.classList.add("not-member");
      if (c.archived) a.classList.add("archived");
      const prefix = c.kind === "dm" ? "💬 " : c.kind === "private" ? "🔒 " : "# ";
      a.textContent = prefix + c.name + (c.kind === "dm" ? " (messages)" : "");
      li.appendChild(a);
      if (c.kind === "dm") {
        li.classList.add("dm-entry");
        apps.appendChild(li);
      } else {
        list.appendChild(li);
      }
    }
  }

  function renderMain() {
    const showingHome = view.home && view.homeTab === "home";
    $("home-tabs").hidden = !view.home;
    $("home-tab").classList.toggle("selected", showingHome);
    $("messages-tab").classList.toggle("selected", view.home && !showingHome);
    $("home-view").hidden = !showingHome;
    $("messages").hidden = showingHome;
    if (showingHome) {
      $("channel-name").textContent = "incidentbot";
      $("channel-topic").textContent = "App Home";
      $("channel-facts").replaceChildren();
      $("bookmarks").replaceChildren();
      $("composer").hidden = true;
      $("join-bar").hidden = true;
      const home = state.home;
      if (changed("home", home)) {
        const section = $("home-view");
        if (home) {
          section.innerHTML = home.html; // rendered and escaped by the server
          section.dataset.viewId = home.id;
        } else {
          section.textContent = "Opening the app's Home tab…";
          delete section.dataset.viewId;
        }
      }
      return;
    }
    const channel = state.channel;
    if (!channel) {
      if (view.channel !== "CGENERAL") selectChannel("CGENERAL");
      return;
    }
    if (channel.latest) store.setItem(seenKey(channel.id), channel.latest);
    $("channel-name").textContent = channel.kind === "dm" ? "incidentbot" : `#${channel.name}`;
    $("channel-topic").innerHTML = channel.topic; // rendered and escaped by the server
    const facts = [];
    if (channel.kind !== "dm") facts.push(`👥 ${channel.member_count}`);
    if (channel.pins) facts.push(`📌 ${channel.pins} pinned`);
    if (channel.archived) facts.push("archived");
    $("channel-facts").textContent = facts.join(" · ");
    $("channel-facts").title = channel.members.join(", ");
    $("bookmarks").replaceChildren(
      ...channel.bookmarks.map((b) => {
        const a = document.createElement("a");
        a.textContent = `🔖 ${b.title}`;
        if (/^https?:/i.test(b.link)) a.href = b.link;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        return a;
      }),
    );
    const member = channel.member;
    $("join-bar").hidden = member || channel.archived;
    $("join-text").textContent = `You are not in #${channel.name}.`;
    $("composer").hidden = !member || channel.archived;
    $("composer-input").placeholder =
      channel.kind === "dm" ? "Message incidentbot" : `Message #${channel.name} — try /incident help`;
    if (changed("messages", [channel.id, state.messages])) {
      const pane = $("messages");
      const atBottom = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 80;
      const switched = pane.dataset.channel !== channel.id;
      if (switched) pane.replaceChildren();
      reconcile(pane, state.messages, (m) => messageElement(m, channel.id, true));
      if (atBottom || switched) pane.scrollTop = pane.scrollHeight;
      pane.dataset.channel = channel.id;
    }
  }

  // Keeps the element of every message that did not change, so a poll never takes away the
  // hover bar or an open menu from under the pointer.
  function reconcile(container, messages, build) {
    const existing = new Map();
    for (const el of container.children) {
      if (el.dataset.key) existing.set(el.dataset.key, el);
    }
    const wanted = messages.map((m) => {
      const key = JSON.stringify(m);
      const reused = existing.get(key);
      if (reused) {
        existing.delete(key);
        return reused;
      }
      const el = build(m);
      el.dataset.key = key;
      return el;
    });
    for (const el of existing.values()) el.remove();
    wanted.forEach((el, index) => {
      if (container.children[index] !== el) container.insertBefore(el, container.children[index] || null);
    });
  }

  function renderThread() {
    const thread = state.thread;
    const pane = $("thread-pane");
    if (!view.thread || !thread || !state.channel) {
      pane.hidden = true;
      lastText.thread = "";
      return;
    }
    pane.hidden = false;
    if (!changed("thread", thread)) return;
    const list = $("thread-messages");
    const parent = messageElement(thread.parent, state.channel.id, false);
    parent.classList.add("thread-parent");
    const replies = thread.replies.length;
    const count = make("div", "thread-count", `${replies} ${replies === 1 ? "reply" : "replies"}`);
    list.replaceChildren(
      parent,
      count,
      ...thread.replies.map((m) => messageElement(m, state.channel.id, false)),
    );
    list.scrollTop = list.scrollHeight;
    $("thread-composer").hidden = !state.channel.member;
  }

  function initials(name) {
    return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join("");
  }

  // An element with a class and, if given, text (set as text, never as HTML).
  function make(tag, className, text) {
    const el = document.createElement(tag);
    el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function messageElement(m, channelId, inChannel) {
    const el = document.createElement("div");
    if (m.kind === "system") {
      el.className = "system-line";
      el.dataset.ts = m.ts;
      el.innerHTML = m.html; // rendered and escaped by the server
      return el;
    }
    el.className = "message";
    if (m.ephemeral) el.classList.add("ephemeral");
    if (m.pinned) el.classList.add("pinned");
    el.dataset.ts = m.ts;
    el.dataset.channel = channelId;
    if (m.ephemeral) el.dataset.ephemeral = "1";

    el.appendChild(make("div", `avatar${m.is_bot ? " bot" : ""}`, m.is_bot ? "🤖" : initials(m.author_name)));

    const body = make("div", "message-body");
    if (m.pinned) body.appendChild(make("div", "pinned-note", `📌 Pinned by ${m.pinned_by || "someone"}`));
    const meta = make("div", "meta");
    meta.appendChild(make("span", "author", m.author_name));
    if (m.is_bot) meta.appendChild(make("span", "app-badge", "APP"));
    const time = document.createElement("time");
    time.textContent = m.time;
    time.title = m.when;
    meta.appendChild(time);
    if (m.edited) meta.appendChild(make("span", "muted", "(edited)"));
    body.appendChild(meta);

    const content = make("div", "content");
    content.innerHTML = m.html; // rendered and escaped by the server
    body.appendChild(content);

    for (const attachment of m.attachments) {
      const box = make("div", "attachment");
      box.innerHTML = attachment; // rendered and escaped by the server
      body.appendChild(box);
    }
    if (m.files.length) {
      const files = make("div", "files");
      for (const f of m.files) {
        const chip = document.createElement("button");
        chip.type = "button";
        chip.className = "file-chip";
        chip.dataset.fileId = f.id;
        chip.disabled = !f.ready;
        const name = make("span", "file-name", `📄 ${f.name}`);
        const size = document.createElement("small");
        size.textContent = f.ready ? `${(f.size / 1024).toFixed(1)} KB · ${f.filetype}` : "uploading…";
        chip.append(name, size);
        files.appendChild(chip);
      }
      body.appendChild(files);
    }
    if (m.reactions.length) {
      const reactions = make("div", "reactions");
      for (const r of m.reactions) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = `reaction${r.mine ? " mine" : ""}`;
        b.dataset.op = r.mine ? "unreact" : "react";
        b.dataset.name = r.name;
        b.title = `${r.who.join(", ")} reacted with :${r.name}:`;
        b.textContent = `${r.emoji} ${r.count}`;
        reactions.appendChild(b);
      }
      body.appendChild(reactions);
    }
    if (inChannel && m.reply_count) {
      const replies = document.createElement("a");
      replies.href = "#";
      replies.className = "replies-link";
      replies.dataset.thread = m.ts;
      replies.textContent = `${m.reply_count} ${m.reply_count === 1 ? "reply" : "replies"}`;
      body.appendChild(replies);
    }
    if (m.ephemeral) body.appendChild(make("div", "ephemeral-note", "👁 Only visible to you"));
    el.appendChild(body);
    if (!m.ephemeral) el.appendChild(hoverActions(m, inChannel));
    return el;
  }

  function button(label, title, data) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.title = title;
    b.setAttribute("aria-label", title);
    Object.assign(b.dataset, data);
    return b;
  }

  function hoverActions(m, inChannel) {
    const bar = make("div", "hover-actions");
    const pushpin = m.reactions.find((r) => r.name === "pushpin" && r.mine);
    bar.appendChild(
      button("📌", pushpin ? "Remove :pushpin:" : "React with :pushpin:", {
        op: pushpin ? "unreact" : "react",
        name: "pushpin",
      }),
    );
    if (inChannel) bar.appendChild(button("💬", "Reply in thread", { op: "reply" }));
    bar.appendChild(button("⋮", "More actions", { op: "menu" }));
    const menu = make("div", "menu");
    menu.hidden = true;
    menu.setAttribute("role", "menu");
    const pinLabel = m.pinned ? "Un-pin from channel" : "Pin to channel";
    const pin = button(pinLabel, pinLabel, { op: m.pinned ? "unpin" : "pin" });
    pin.setAttribute("role", "menuitem");
    menu.appendChild(pin);
    const shortcuts = state.shortcuts.filter((s) => s.type === "message");
    if (shortcuts.length) {
      menu.appendChild(make("div", "menu-heading", "incidentbot"));
    }
    for (const s of shortcuts) {
      const item = button(s.name, s.name, { op: "shortcut", callbackId: s.callback_id });
      item.setAttribute("role", "menuitem");
      menu.appendChild(item);
    }
    bar.appendChild(menu);
    return bar;
  }

  // ------------------------------------------------------------------ modals

  function renderModal() {
    const modal = state.modal;
    const overlay = $("modal-overlay");
    if (!modal) {
      overlay.hidden = true;
      modalKey = null;
      return;
    }
    const key = `${modal.id}:${modal.hash}`;
    if (key !== modalKey) {
      modalKey = key;
      $("modal-title").innerHTML = modal.title; // rendered and escaped by the server
      const form = $("modal-form");
      form.innerHTML = modal.html; // rendered and escaped by the server
      form.dataset.viewId = modal.id;
      $("modal-submit").hidden = !modal.submit;
      $("modal-submit").textContent = modal.submit || "Submit";
      $("modal-cancel").textContent = modal.close;
      for (const picker of form.querySelectorAll("[data-input=datetimepicker][data-initial]")) {
        // Slack gives seconds since the epoch; the field shows the browser's local time.
        const moment = new Date(Number(picker.dataset.initial) * 1000);
        moment.setMinutes(moment.getMinutes() - moment.getTimezoneOffset());
        picker.value = moment.toISOString().slice(0, 16);
      }
      overlay.hidden = false;
      const first = form.querySelector("input, textarea, select");
      if (first) first.focus();
    }
    showModalErrors(modal.errors);
  }

  function showModalErrors(errors) {
    for (const block of $("modal-form").querySelectorAll(".bk-input")) {
      const message = errors[block.dataset.blockId] || "";
      const slot = block.querySelector(".bk-error");
      if (slot.dataset.local && !message) continue; // the page's own "required" note
      slot.textContent = message;
      delete slot.dataset.local;
      block.classList.toggle("has-error", Boolean(message));
    }
  }

  function readInput(el) {
    const kind = el.dataset.input;
    if (kind === "checkboxes") {
      return Array.from(el.querySelectorAll("input:checked")).map((i) => i.value);
    }
    if (kind === "radio_buttons") {
      const checked = el.querySelector("input:checked");
      return checked ? checked.value : null;
    }
    if (el.tagName === "SELECT" && el.multiple) {
      return Array.from(el.selectedOptions).map((o) => o.value);
    }
    if (kind === "datetimepicker") {
      return el.value ? Math.floor(new Date(el.value).getTime() / 1000) : null;
    }
    return el.value === "" ? null : el.value;
  }

  function isEmpty(value) {
    // As Slack's client: blank characters count as an answer; the app may still refuse them.
    return value === null || (Array.isArray(value) && value.length === 0);
  }

  async function submitModal() {
    const form = $("modal-form");
    const values = {};
    let missing = false;
    for (const block of form.querySelectorAll(".bk-input")) {
      const input = block.querySelector("[data-input]");
      if (!input) continue;
      const value = readInput(input);
      values[input.dataset.actionId] = value;
      const slot = block.querySelector(".bk-error");
      if (block.hasAttribute("data-required") && isEmpty(value)) {
        missing = true;
        slot.textContent = "Please complete this required field.";
        slot.dataset.local = "1";
        block.classList.add("has-error");
      } else if (slot.dataset.local) {
        slot.textContent = "";
        delete slot.dataset.local;
        block.classList.remove("has-error");
      }
    }
    if (missing) return;
    $("modal-submit").disabled = true;
    try {
      await post("/api/view/submit", { view_id: form.dataset.viewId, values });
    } finally {
      $("modal-submit").disabled = false;
    }
  }

  function closeModal() {
    const id = $("modal-form").dataset.viewId;
    if (id) post("/api/view/close", { view_id: id });
  }

  // ------------------------------------------------------------------ Block Kit elements

  function confirmFirst(element) {
    if (!element.dataset.confirm) return Promise.resolve(true);
    let dialog = {};
    try {
      dialog = JSON.parse(element.dataset.confirm);
    } catch (_) {
      return Promise.resolve(true);
    }
    $("confirm-title").textContent = (dialog.title && dialog.title.text) || "Are you sure?";
    $("confirm-text").textContent = (dialog.text && dialog.text.text) || "";
    $("confirm-ok").textContent = (dialog.confirm && dialog.confirm.text) || "Yes";
    $("confirm-deny").textContent = (dialog.deny && dialog.deny.text) || "Cancel";
    $("confirm-overlay").hidden = false;
    return new Promise((resolve) => {
      const done = (answer) => {
        $("confirm-overlay").hidden = true;
        $("confirm-ok").onclick = null;
        $("confirm-deny").onclick = null;
        resolve(answer);
      };
      $("confirm-ok").onclick = () => done(true);
      $("confirm-deny").onclick = () => done(false);
    });
  }

  async function blockAction(element, value) {
    if (!(await confirmFirst(element))) return;
    if (element.dataset.url && /^https?:/i.test(element.dataset.url)) {
      window.open(element.dataset.url, "_blank", "noopener");
    }
    const body = { action_id: element.dataset.actionId, block_id: element.dataset.blockId, value };
    const viewHost = element.closest("[data-view-id]");
    const message = element.closest(".message");
    if (viewHost) {
      body.view_id = viewHost.dataset.viewId;
    } else if (message) {
      body.channel = message.dataset.channel;
      body.message_ts = message.dataset.ts;
    } else {
      return;
    }
    await post("/api/action", body);
  }

  // ------------------------------------------------------------------ navigation

  function selectChannel(channelId) {
    view.channel = channelId;
    view.thread = null;
    view.home = false;
    store.setItem("playground.channel", channelId);
    lastText.messages = "";
    refresh();
  }

  async function openHome() {
    view.home = true;
    view.homeTab = "home";
    view.thread = null;
    lastText.home = "";
    refresh();
    await post("/api/home", {});
  }

  function dmChannelId() {
    const dm = state && state.channels.find((c) => c.kind === "dm");
    return dm ? dm.id : null;
  }

  async function openFile(fileId) {
    const query = new URLSearchParams({ user: view.user });
    const response = await fetch(`/api/files/${encodeURIComponent(fileId)}?${query}`);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      showError(data.error || `HTTP ${response.status}`);
      return;
    }
    $("file-title").textContent = data.title && data.title !== data.name ? `${data.name} — ${data.title}` : data.name;
    $("file-body").innerHTML = data.html; // rendered and escaped by the server
    $("file-download").href = `/api/files/${encodeURIComponent(fileId)}/raw?${query}`;
    $("file-download").setAttribute("download", data.name);
    $("file-overlay").hidden = false;
  }

  async function send(input, threadTs) {
    const text = input.value;
    if (!text.trim()) return;
    const channel = state && state.channel ? state.channel.id : view.channel;
    input.value = "";
    const result = text.trim().startsWith("/")
      ? await post("/api/command", { channel, text: text.trim() })
      : await post("/api/message", { channel, text, thread_ts: threadTs || null });
    if (result === null) input.value = text; // keep what was typed when it was refused
  }

  // ------------------------------------------------------------------ events

  function closeMenus() {
    if (openMenu) openMenu.hidden = true;
    openMenu = null;
  }

  document.addEventListener("click", async (event) => {
    const target = event.target.closest(
      "[data-op], [data-action-id]:not([data-input]), [data-channel].channel-entry, a.channel-link, [data-thread], [data-file-id], #home-link",
    );
    if (!target) {
      if (!event.target.closest(".menu")) closeMenus();
      return;
    }
    if (target.matches("#home-link")) {
      event.preventDefault();
      openHome();
      return;
    }
    if (target.matches(".channel-entry, a.channel-link")) {
      event.preventDefault();
      selectChannel(target.dataset.channel);
      return;
    }
    if (target.dataset.thread) {
      event.preventDefault();
      view.thread = target.dataset.thread;
      lastText.thread = "";
      refresh();
      return;
    }
    if (target.dataset.fileId) {
      openFile(target.dataset.fileId);
      return;
    }
    if (target.dataset.actionId && target.tagName === "BUTTON") {
      blockAction(target, target.dataset.value === undefined ? null : target.dataset.value);
      return;
    }
    const op = target.dataset.op;
    if (!op) return;
    const message = target.closest(".message");
    if (!message) return;
    const where = { channel: message.dataset.channel, ts: message.dataset.ts };
    if (op === "menu") {
      const menu = target.parentElement.querySelector(".menu");
      const wasOpen = !menu.hidden;
      closeMenus();
      if (!wasOpen) {
        menu.hidden = false;
        openMenu = menu;
      }
      return;
    }
    closeMenus();
    if (op === "reply") {
      view.thread = where.ts;
      lastText.thread = "";
      refresh();
    } else if (op === "pin" || op === "unpin") {
      await post(`/api/${op}`, where);
    } else if (op === "react" || op === "unreact") {
      await post(`/api/${op}`, { ...where, name: target.dataset.name || "pushpin" });
    } else if (op === "shortcut") {
      await post("/api/shortcut", { ...where, callback_id: target.dataset.callbackId });
    }
  });

  document.addEventListener("change", (event) => {
    const el = event.target;
    if (el.matches("select[data-action-id]:not([data-input])")) {
      const value = el.multiple ? Array.from(el.selectedOptions).map((o) => o.value) : el.value;
      if (value !== "") blockAction(el, value);
    }
  });

  $("user-picker").addEventListener("change", (event) => {
    view.user = event.target.value;
    store.setItem("playground.user", view.user);
    view.thread = null;
    lastText = { messages: "", thread: "", home: "", channels: "", users: lastText.users };
    modalKey = null;
    if (view.home) openHome();
    else refresh();
  });

  $("home-tab").addEventListener("click", () => openHome());
  $("messages-tab").addEventListener("click", () => {
    const dm = dmChannelId();
    if (!dm) return;
    view.homeTab = "messages";
    view.channel = dm;
    lastText.messages = "";
    refresh();
  });

  $("join-button").addEventListener("click", () => post("/api/join", { channel: view.channel }));

  function composerKeys(form, input) {
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }
  composerKeys($("composer"), $("composer-input"));
  composerKeys($("thread-composer"), $("thread-input"));
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    send($("composer-input"));
  });
  $("thread-composer").addEventListener("submit", (event) => {
    event.preventDefault();
    send($("thread-input"), view.thread);
  });
  $("thread-close").addEventListener("click", () => {
    view.thread = null;
    refresh();
  });

  $("modal-submit").addEventListener("click", submitModal);
  $("modal-cancel").addEventListener("click", closeModal);
  $("modal-x").addEventListener("click", closeModal);
  $("modal-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submitModal();
  });
  $("file-close").addEventListener("click", () => { $("file-overlay").hidden = true; });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    if (!$("confirm-overlay").hidden) $("confirm-deny").click();
    else if (!$("file-overlay").hidden) $("file-overlay").hidden = true;
    else if (!$("modal-overlay").hidden) closeModal();
    else closeMenus();
  });

  refresh();
  setInterval(refresh, POLL_MS);
})();
