// idpool console: a small single-page application. Every change goes
// through the server's API pipeline (POST /console/api/aws) or the console
// endpoints; nothing here decides a business rule. Pages are built with
// DOM calls only (no innerHTML), so no text from the server can run.
"use strict";

const state = { session: null, region: sessionStorage.getItem("idpool.region") || "", stream: null };
const $ = (sel) => document.querySelector(sel);

// h builds an element: h("a", {href: "#/x", class: "y"}, "text", child...).
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const kid of kids.flat()) {
    if (kid === undefined || kid === null || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

class APIError extends Error {
  constructor(type, message, status) { super(message || type); this.type = type; this.status = status; }
}

async function post(path, body, headers) {
  const hdr = Object.assign({ "Content-Type": "application/json" }, headers || {});
  if (state.session && state.session.Csrf) hdr["X-Idpool-Csrf"] = state.session.Csrf;
  if (state.region) hdr["X-Idpool-Region"] = state.region;
  const res = await fetch(path, { method: "POST", headers: hdr, body: JSON.stringify(body || {}), credentials: "same-origin" });
  let data = {};
  const text = await res.text();
  if (text) { try { data = JSON.parse(text); } catch { data = { message: text }; } }
  if (!res.ok) {
    if (data.__type === "SignInRequired") { state.session = null; go("#/signin"); }
    const type = (data.__type || "Error").split("#").pop();
    throw new APIError(type, data.message || data.Message || res.statusText, res.status);
  }
  return data;
}

// aws calls an API operation as the console's session.
function aws(op, input) {
  return post("/console/api/aws", input || {}, {
    "Content-Type": "application/x-amz-json-1.1",
    "X-Amz-Target": "AWSCognitoIdentityService." + op,
  });
}

// flash shows a message; it stays for the page an action leads to and is
// cleared on the next one.
function flash(msg, ok) {
  state.flashKeep = !!msg;
  const f = $("#flash");
  f.className = ok ? "ok" : "";
  f.setAttribute("role", ok ? "status" : "alert");
  f.textContent = msg || "";
}
function fail(err) { flash(err.type ? err.type + ": " + err.message : String(err)); state.flashKeep = false; }

function confirmDialog(text, yesLabel) {
  const d = $("#confirm");
  $("#confirm-text").textContent = text;
  $("#confirm-yes").textContent = yesLabel || "Delete";
  return new Promise((resolve) => {
    const done = (v) => { d.close(); $("#confirm-yes").onclick = null; $("#confirm-no").onclick = null; resolve(v); };
    $("#confirm-yes").onclick = () => done(true);
    $("#confirm-no").onclick = () => done(false);
    d.oncancel = () => done(false);
    d.showModal();
    $("#confirm-no").focus();
  });
}

function fmtTime(v) {
  if (v === undefined || v === null || v === "") return "";
  const d = typeof v === "number" ? new Date(v * 1000) : new Date(v);
  return d.toISOString().replace(".000Z", "Z");
}
function lines(text) { return text.split("\n").map((s) => s.trim()).filter(Boolean); }
function poolARN(id) {
  const region = id.split(":")[0];
  return "arn:aws:cognito-identity:" + region + ":" + state.session.Account + ":identitypool/" + id;
}

// ---------------------------------------------------------------- routing

function go(hash) { if (location.hash !== hash) location.hash = hash; else render(); }

const routes = [
  [/^#\/signin$/, pageSignIn],
  [/^#\/pools$/, pagePools],
  [/^#\/pools\/new$/, () => pagePoolForm(null)],
  [/^#\/pools\/([^/]+)\/edit$/, (id) => pagePoolForm(id)],
  [/^#\/pools\/([^/]+)\/try$/, pageTry],
  [/^#\/pools\/([^/]+)$/, pagePool],
  [/^#\/identities\/([^/]+)$/, pageIdentity],
  [/^#\/keys$/, pageKeys],
  [/^#\/activity$/, pageActivity],
];

let renderSeq = 0;
async function render() {
  const hash = location.hash || "#/pools";
  if (!hash.startsWith("#/")) return; // the skip link
  const seq = ++renderSeq;
  document.body.removeAttribute("data-ready");
  if (!state.flashKeep) flash("");
  state.flashKeep = false;
  if (state.stream) { state.stream.close(); state.stream = null; }
  if (!state.session || !state.session.SignedIn) {
    if (hash !== "#/signin") { go("#/signin"); return; }
  } else if (hash === "#/signin") { go("#/pools"); return; }
  const section = hash.split("/")[1];
  for (const a of document.querySelectorAll("[data-nav]")) {
    if (a.dataset.nav === section) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  const main = $("#main");
  for (const [re, page] of routes) {
    const m = hash.match(re);
    if (!m) continue;
    const args = m.slice(1).map(decodeURIComponent);
    try {
      const { title, body, ready } = await page(...args);
      if (seq !== renderSeq) return;
      main.replaceChildren(h("h1", {}, title), body);
      document.title = title + " · idpool console";
      if (ready) ready();
      document.body.dataset.ready = page.readyName || routeName(page);
    } catch (err) {
      if (seq !== renderSeq) return;
      main.replaceChildren(h("h1", {}, "Something went wrong"), h("p", {}, "The page could not be loaded."));
      fail(err);
      state.flashKeep = false;
      document.body.dataset.ready = "error";
    }
    return;
  }
  main.replaceChildren(h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/pools" }, "Back to the pools")));
  document.body.dataset.ready = "notfound";
}

function routeName(page) {
  return { pageSignIn: "signin", pagePools: "pools", pageTry: "try", pagePool: "pool", pageIdentity: "identity",
    pageKeys: "keys", pageActivity: "activity" }[page.name] || "pool-form";
}

// ---------------------------------------------------------------- session

async function loadSession() {
  const res = await fetch("/console/api/session", { credentials: "same-origin" });
  state.session = await res.json();
  const s = state.session;
  $("#ctx").hidden = !s.SignedIn;
  $("#account-label").hidden = s.Mode === "strict";
  $("#account").value = s.Account || "";
  $("#region").value = state.region;
  $("#signout").hidden = s.Mode !== "strict" || !s.SignedIn;
  $("#whoami").textContent = s.Mode === "strict" && s.SignedIn ? s.AccessKeyId + " · " + s.Account : "";
}

async function pageSignIn() {
  const err = h("p", { id: "signin-error", class: "bad-text", role: "alert" });
  const form = h("form", { id: "signin-form", class: "grid signin" },
    h("label", { for: "signin-key" }, "Access key id"),
    h("input", { id: "signin-key", name: "key", autocomplete: "username", required: true }),
    h("label", { for: "signin-secret" }, "Secret access key"),
    h("input", { id: "signin-secret", name: "secret", type: "password", autocomplete: "current-password", required: true }),
    h("span"), h("div", {}, h("button", { id: "signin-go", type: "submit" }, "Sign in")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.textContent = "";
    try {
      state.session = await post("/console/api/signin", { AccessKeyId: $("#signin-key").value, SecretAccessKey: $("#signin-secret").value });
      await loadSession();
      flash("");
      go("#/pools");
    } catch (e) { err.textContent = e.message; }
  });
  return {
    title: "Sign in",
    body: h("div", {}, h("p", {}, "This server runs in strict mode: sign in with an access key of its credentials. The console then acts for that key's account."), form, err),
    ready: () => $("#signin-key").focus(),
  };
}

// ---------------------------------------------------------------- pools

async function pagePools() {
  const body = h("div", {});
  const table = h("table", { id: "pool-list" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Identity pool id"), h("th", { scope: "col" }, "Region"))));
  const tbody = h("tbody");
  table.append(tbody);
  const more = h("button", { type: "button", class: "secondary", id: "more-pools", hidden: true }, "More pools");
  let next = null;
  async function load() {
    const out = await aws("ListIdentityPools", next ? { MaxResults: 60, NextToken: next } : { MaxResults: 60 });
    for (const p of out.IdentityPools) {
      tbody.append(h("tr", { "data-pool-id": p.IdentityPoolId },
        h("td", {}, h("a", { class: "pool-link", href: "#/pools/" + encodeURIComponent(p.IdentityPoolId) }, p.IdentityPoolName)),
        h("td", { class: "mono" }, p.IdentityPoolId), h("td", {}, p.IdentityPoolId.split(":")[0])));
    }
    next = out.NextToken || null;
    more.hidden = !next;
  }
  more.addEventListener("click", () => load().catch(fail));
  await load();
  const where = (state.session.Mode === "strict" ? "Account " : "Acting for account ") + state.session.Account + (state.region ? ", region " + state.region : ", every region");
  body.append(h("div", { class: "actions" }, h("a", { id: "new-pool", class: "button", href: "#/pools/new" }, "Create identity pool")),
    h("p", { class: "muted" }, where + "."), table,
    h("p", { id: "no-pools", hidden: tbody.children.length > 0 }, "No identity pools yet."), more);
  return { title: "Identity pools", body };
}

// textarea helpers for the pool form.
const parse = {
  providers: (t) => Object.fromEntries(lines(t).map((l) => { const i = l.indexOf("="); return i < 0 ? [l, ""] : [l.slice(0, i).trim(), l.slice(i + 1).trim()]; })),
  cognito: (t) => lines(t).map((l) => { const [ProviderName, ClientId, ss] = l.split(/\s+/); return { ProviderName, ClientId, ServerSideTokenCheck: ss === "server-side" }; }),
  tags: (t) => Object.fromEntries(lines(t).map((l) => { const i = l.indexOf("="); return i < 0 ? [l, ""] : [l.slice(0, i).trim(), l.slice(i + 1).trim()]; })),
  principal: (t) => lines(t).map((l) => {
    const [provider, ...rest] = l.split(/\s+/);
    if (rest.length === 1 && rest[0] === "default") return { IdentityProviderName: provider, UseDefaults: true };
    return { IdentityProviderName: provider, UseDefaults: false, PrincipalTags: parse.tags(rest.join("\n")) };
  }),
};

function mappingEditor(key, m) {
  const rules = h("div", { class: "rules" });
  const typeSel = h("select", { class: "m-type", "aria-label": "Mapping type" }, h("option", { value: "Token" }, "Token"), h("option", { value: "Rules" }, "Rules"));
  const ambSel = h("select", { class: "m-ambiguous", "aria-label": "When ambiguous" }, h("option", { value: "AuthenticatedRole" }, "Use the authenticated role"), h("option", { value: "Deny" }, "Deny"));
  typeSel.value = (m && m.Type) || "Token";
  ambSel.value = (m && m.AmbiguousRoleResolution) || "AuthenticatedRole";
  const addRule = (r) => {
    const match = h("select", { class: "r-match", "aria-label": "Match type" }, ...["Equals", "Contains", "StartsWith", "NotEqual"].map((v) => h("option", { value: v }, v)));
    match.value = (r && r.MatchType) || "Equals";
    const row = h("div", { class: "rule" },
      h("input", { class: "r-claim", "aria-label": "Claim", placeholder: "claim", value: (r && r.Claim) || "" }), match,
      h("input", { class: "r-value", "aria-label": "Value", placeholder: "value", value: (r && r.Value) || "" }),
      h("input", { class: "r-role", "aria-label": "Role ARN", placeholder: "arn:aws:iam::…:role/…", value: (r && r.RoleARN) || "" }),
      h("button", { type: "button", class: "secondary", onclick: () => row.remove(), "aria-label": "Remove rule" }, "Remove"));
    rules.append(row);
  };
  for (const r of (m && m.RulesConfiguration && m.RulesConfiguration.Rules) || []) addRule(r);
  const fs = h("fieldset", { class: "mapping" }, h("legend", {}, "Role mapping"),
    h("div", { class: "grid" },
      h("label", {}, "Provider"), h("input", { class: "m-key", "aria-label": "Provider of the mapping", placeholder: "e.g. graph.facebook.com or cognito-idp.…:client", value: key || "" }),
      h("label", {}, "Type"), typeSel,
      h("label", {}, "When ambiguous"), ambSel,
      h("label", {}, "Rules"), h("div", {}, rules, h("button", { type: "button", class: "secondary add-rule", onclick: () => addRule() }, "Add rule"))),
    h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", onclick: () => fs.remove() }, "Remove mapping")));
  return fs;
}

function readMappings() {
  const out = {};
  for (const fs of document.querySelectorAll("#mappings fieldset.mapping")) {
    const key = fs.querySelector(".m-key").value.trim();
    if (!key) continue;
    const m = { Type: fs.querySelector(".m-type").value, AmbiguousRoleResolution: fs.querySelector(".m-ambiguous").value };
    if (m.Type === "Rules") {
      m.RulesConfiguration = { Rules: [...fs.querySelectorAll(".rule")].map((r) => ({
        Claim: r.querySelector(".r-claim").value.trim(), MatchType: r.querySelector(".r-match").value,
        Value: r.querySelector(".r-value").value, RoleARN: r.querySelector(".r-role").value.trim() })) };
    }
    out[key] = m;
  }
  return out;
}

async function pagePoolForm(id) {
  let pool = { IdentityPoolName: "", AllowUnauthenticatedIdentities: false, AllowClassicFlow: false }, roles = {}, tags = {}, principal = [];
  if (id) {
    pool = await aws("DescribeIdentityPool", { IdentityPoolId: id });
    roles = await aws("GetIdentityPoolRoles", { IdentityPoolId: id });
    tags = (await aws("ListTagsForResource", { ResourceArn: poolARN(id) })).Tags || {};
    const providers = [...Object.keys(pool.SupportedLoginProviders || {}), ...(pool.OpenIdConnectProviderARNs || []),
      ...(pool.SamlProviderARNs || []), ...(pool.CognitoIdentityProviders || []).map((c) => c.ProviderName)];
    for (const p of [...new Set(providers)]) {
      try {
        const m = await aws("GetPrincipalTagAttributeMap", { IdentityPoolId: id, IdentityProviderName: p });
        if (m.UseDefaults || Object.keys(m.PrincipalTags || {}).length) principal.push(m);
      } catch (e) { if (e.type !== "ResourceNotFoundException") throw e; }
    }
  }
  const txt = (elId, label, value, hint) => [h("label", { for: elId }, label), h("textarea", { id: elId }, value), hint ? h("div", { class: "hint" }, hint) : null];
  const inp = (elId, label, value, hint) => [h("label", { for: elId }, label), h("input", { id: elId, value: value || "" }), hint ? h("div", { class: "hint" }, hint) : null];
  const chk = (elId, label, on) => [h("label", { for: elId }, label), h("input", { id: elId, type: "checkbox", checked: !!on })];
  const mappings = h("div", { id: "mappings" });
  for (const [k, m] of Object.entries(roles.RoleMappings || {})) mappings.append(mappingEditor(k, m));
  const form = h("form", { id: "pool-form", class: "grid" },
    ...inp("f-name", "Name", pool.IdentityPoolName, "1–128 letters, digits, spaces and + = , . @ -"),
    ...chk("f-allow-unauth", "Allow guests (unauthenticated identities)", pool.AllowUnauthenticatedIdentities),
    ...chk("f-classic", "Allow the basic (classic) flow", pool.AllowClassicFlow),
    ...inp("f-developer", "Developer provider name", pool.DeveloperProviderName, "Set once; it cannot be changed afterwards."),
    ...txt("f-providers", "Public login providers", Object.entries(pool.SupportedLoginProviders || {}).map(([k, v]) => k + "=" + v).join("\n"), "One per line: domain=app id, e.g. graph.facebook.com=1234"),
    ...txt("f-oidc", "OpenID Connect provider ARNs", (pool.OpenIdConnectProviderARNs || []).join("\n"), "One ARN per line."),
    ...txt("f-saml", "SAML provider ARNs", (pool.SamlProviderARNs || []).join("\n"), "One ARN per line."),
    ...txt("f-cognito", "User pool clients", (pool.CognitoIdentityProviders || []).map((c) => c.ProviderName + " " + c.ClientId + (c.ServerSideTokenCheck ? " server-side" : "")).join("\n"), "One per line: provider name, client id, and \"server-side\" for the server-side token check."),
    ...inp("f-role-auth", "Authenticated role ARN", (roles.Roles || {}).authenticated),
    ...inp("f-role-unauth", "Unauthenticated role ARN", (roles.Roles || {}).unauthenticated),
    h("label", {}, "Role mappings"), h("div", {}, mappings, h("button", { type: "button", id: "add-mapping", class: "secondary", onclick: () => mappings.append(mappingEditor("", null)) }, "Add role mapping")),
    ...txt("f-principal-tags", "Principal tags", principal.map((m) => m.IdentityProviderName + " " + (m.UseDefaults ? "default" : Object.entries(m.PrincipalTags || {}).map(([k, v]) => k + "=" + v).join(" "))).join("\n"), "One provider per line: provider tag=claim … , or provider default"),
    ...txt("f-tags", "Tags", Object.entries(tags).map(([k, v]) => k + "=" + v).join("\n"), "One per line: key=value"),
    h("span"), h("div", { class: "actions" }, h("button", { id: "save-pool", type: "submit" }, id ? "Save changes" : "Create pool"),
      h("a", { class: "button secondary", href: id ? "#/pools/" + encodeURIComponent(id) : "#/pools" }, "Cancel")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const btn = $("#save-pool");
    btn.disabled = true;
    try {
      const spec = {
        IdentityPoolName: $("#f-name").value.trim(),
        AllowUnauthenticatedIdentities: $("#f-allow-unauth").checked,
        AllowClassicFlow: $("#f-classic").checked,
        SupportedLoginProviders: parse.providers($("#f-providers").value),
        OpenIdConnectProviderARNs: lines($("#f-oidc").value),
        SamlProviderARNs: lines($("#f-saml").value),
        CognitoIdentityProviders: parse.cognito($("#f-cognito").value),
      };
      const dev = $("#f-developer").value.trim();
      if (dev) spec.DeveloperProviderName = dev;
      const newTags = parse.tags($("#f-tags").value);
      let poolId = id;
      if (id) {
        await aws("UpdateIdentityPool", Object.assign({ IdentityPoolId: id }, spec));
        const gone = Object.keys(tags).filter((k) => !(k in newTags));
        if (gone.length) await aws("UntagResource", { ResourceArn: poolARN(id), TagKeys: gone });
        if (Object.keys(newTags).length) await aws("TagResource", { ResourceArn: poolARN(id), Tags: newTags });
      } else {
        if (Object.keys(newTags).length) spec.IdentityPoolTags = newTags;
        poolId = (await aws("CreateIdentityPool", spec)).IdentityPoolId;
      }
      const r = {};
      if ($("#f-role-auth").value.trim()) r.authenticated = $("#f-role-auth").value.trim();
      if ($("#f-role-unauth").value.trim()) r.unauthenticated = $("#f-role-unauth").value.trim();
      const rm = readMappings();
      if (id || Object.keys(r).length || Object.keys(rm).length) {
        await aws("SetIdentityPoolRoles", { IdentityPoolId: poolId, Roles: r, RoleMappings: rm });
      }
      const seen = new Set();
      for (const m of parse.principal($("#f-principal-tags").value)) {
        seen.add(m.IdentityProviderName);
        await aws("SetPrincipalTagAttributeMap", Object.assign({ IdentityPoolId: poolId }, m));
      }
      for (const m of principal) {
        if (!seen.has(m.IdentityProviderName)) await aws("SetPrincipalTagAttributeMap", { IdentityPoolId: poolId, IdentityProviderName: m.IdentityProviderName, UseDefaults: false, PrincipalTags: {} });
      }
      flash(id ? "Saved." : "Identity pool created.", true);
      go("#/pools/" + encodeURIComponent(poolId));
    } catch (e) { fail(e); } finally { btn.disabled = false; }
  });
  return { title: id ? "Edit " + pool.IdentityPoolName : "Create identity pool", body: form, ready: () => $("#f-name").focus() };
}
pagePoolForm.readyName = "pool-form";

async function pagePool(id) {
  const pool = await aws("DescribeIdentityPool", { IdentityPoolId: id });
  const roles = await aws("GetIdentityPoolRoles", { IdentityPoolId: id });
  const facts = h("dl", { class: "facts" },
    h("dt", {}, "Identity pool id"), h("dd", { id: "pool-id", class: "mono" }, pool.IdentityPoolId),
    h("dt", {}, "Name"), h("dd", { id: "pool-name" }, pool.IdentityPoolName),
    h("dt", {}, "Guests"), h("dd", {}, pool.AllowUnauthenticatedIdentities ? "allowed" : "not allowed"),
    h("dt", {}, "Basic flow"), h("dd", {}, pool.AllowClassicFlow ? "allowed" : "not allowed"),
    h("dt", {}, "Developer provider"), h("dd", {}, pool.DeveloperProviderName || "none"),
    h("dt", {}, "Login providers"), h("dd", {}, [...Object.keys(pool.SupportedLoginProviders || {}), ...(pool.OpenIdConnectProviderARNs || []), ...(pool.SamlProviderARNs || []), ...(pool.CognitoIdentityProviders || []).map((c) => c.ProviderName + ":" + c.ClientId)].join(", ") || "none"),
    h("dt", {}, "Authenticated role"), h("dd", { class: "mono" }, (roles.Roles || {}).authenticated || "none"),
    h("dt", {}, "Unauthenticated role"), h("dd", { class: "mono" }, (roles.Roles || {}).unauthenticated || "none"),
    h("dt", {}, "Role mappings"), h("dd", {}, Object.keys(roles.RoleMappings || {}).join(", ") || "none"));
  const del = h("button", { type: "button", id: "delete-pool", class: "danger" }, "Delete pool");
  del.addEventListener("click", async () => {
    if (!(await confirmDialog("Delete the identity pool " + pool.IdentityPoolName + " and all its identities? This cannot be undone."))) return;
    try { await aws("DeleteIdentityPool", { IdentityPoolId: id }); flash("Identity pool deleted.", true); go("#/pools"); } catch (e) { fail(e); }
  });

  // Identities, a page at a time.
  const hide = h("input", { id: "hide-disabled", type: "checkbox" });
  const tbody = h("tbody");
  const table = h("table", { id: "identity-list" }, h("thead", {}, h("tr", {}, ...["Identity id", "Logins", "Created", "Last modified"].map((t) => h("th", { scope: "col" }, t)))), tbody);
  const nextBtn = h("button", { type: "button", id: "next-page", class: "secondary", hidden: true }, "Next page");
  const empty = h("p", { class: "muted", hidden: true }, "No identities.");
  // A later load supersedes an earlier one still in flight, so quick clicks
  // never let an old answer overwrite a newer page. The table says which
  // page it shows once its answer is in.
  let pages = [null], page = 0, loads = 0;
  async function loadPage() {
    const mine = ++loads;
    table.setAttribute("aria-busy", "true");
    const input = { IdentityPoolId: id, MaxResults: 20, HideDisabled: hide.checked };
    if (pages[page]) input.NextToken = pages[page];
    let out;
    try { out = await aws("ListIdentities", input); } catch (e) { if (mine === loads) { table.setAttribute("aria-busy", "false"); throw e; } return; }
    if (mine !== loads) return;
    tbody.replaceChildren(...out.Identities.map((i) => h("tr", { "data-identity-id": i.IdentityId },
      h("td", {}, h("a", { class: "identity-link mono", href: "#/identities/" + encodeURIComponent(i.IdentityId) }, i.IdentityId)),
      h("td", {}, (i.Logins || []).join(", ") || h("span", { class: "muted" }, "guest")),
      h("td", {}, fmtTime(i.CreationDate)), h("td", {}, fmtTime(i.LastModifiedDate)))));
    empty.hidden = out.Identities.length > 0;
    pages[page + 1] = out.NextToken || null;
    nextBtn.hidden = !out.NextToken;
    prevBtn.hidden = page === 0;
    table.dataset.page = String(page + 1);
    table.dataset.hideDisabled = String(hide.checked);
    table.setAttribute("aria-busy", "false");
  }
  const prevBtn = h("button", { type: "button", id: "prev-page", class: "secondary", hidden: true }, "Previous page");
  nextBtn.addEventListener("click", () => { page++; loadPage().catch(fail); });
  prevBtn.addEventListener("click", () => { page--; loadPage().catch(fail); });
  hide.addEventListener("change", () => { pages = [null]; page = 0; loadPage().catch(fail); });
  await loadPage();

  // Search.
  const kind = h("select", { id: "search-kind" }, h("option", { value: "identity" }, "Identity id"), h("option", { value: "login" }, "Login (provider and user id)"), h("option", { value: "developer" }, "Developer user"));
  const provider = h("input", { id: "search-provider", placeholder: "provider, e.g. graph.facebook.com" });
  const value = h("input", { id: "search-value", placeholder: "identity id, user id or developer user" });
  const searchForm = h("form", { id: "search", class: "grid" },
    h("label", { for: "search-kind" }, "Search by"), kind,
    h("label", { for: "search-provider" }, "Provider"), provider,
    h("label", { for: "search-value" }, "Value"), value,
    h("span"), h("div", {}, h("button", { id: "search-go", type: "submit" }, "Search")));
  const syncKind = () => { provider.disabled = kind.value !== "login"; };
  kind.addEventListener("change", syncKind); syncKind();
  searchForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      let identityId;
      const v = value.value.trim();
      if (kind.value === "identity") identityId = (await aws("DescribeIdentity", { IdentityId: v })).IdentityId;
      else if (kind.value === "login") identityId = (await post("/console/api/find-login", { IdentityPoolId: id, Provider: provider.value.trim(), Subject: v })).IdentityId;
      else identityId = (await aws("LookupDeveloperIdentity", { IdentityPoolId: id, DeveloperUserIdentifier: v, MaxResults: 1 })).IdentityId;
      flash("");
      go("#/identities/" + encodeURIComponent(identityId));
    } catch (e) { fail(e); }
  });

  const body = h("div", {}, h("div", { class: "actions" },
    h("a", { id: "edit-pool", class: "button secondary", href: "#/pools/" + encodeURIComponent(id) + "/edit" }, "Edit"),
    h("a", { id: "try-pool", class: "button secondary", href: "#/pools/" + encodeURIComponent(id) + "/try" }, "Try it"), del),
  facts,
  h("h2", {}, "Identities"),
  h("div", { class: "actions" }, h("label", {}, hide, " Hide disabled identities")),
  table, empty, h("div", { class: "actions" }, prevBtn, nextBtn),
  h("h2", {}, "Find an identity"), searchForm);
  return { title: pool.IdentityPoolName, body };
}

async function pageIdentity(identityId) {
  const d = await post("/console/api/identity", { IdentityId: identityId });
  const pool = await aws("DescribeIdentityPool", { IdentityPoolId: d.IdentityPoolId });
  const devUser = d.Logins.find((l) => l.Developer);
  const loginList = h("ul", { id: "identity-logins" }, ...d.Logins.map((l) => {
    const btn = h("button", { type: "button", class: "secondary unlink" }, "Unlink");
    btn.addEventListener("click", async () => {
      if (!(await confirmDialog("Unlink " + l.Provider + " user " + l.Subject + " from this identity?", "Unlink"))) return;
      try {
        if (l.Developer) await aws("UnlinkDeveloperIdentity", { IdentityId: d.IdentityId, IdentityPoolId: d.IdentityPoolId, DeveloperProviderName: l.Provider, DeveloperUserIdentifier: l.Subject });
        else await post("/console/api/unlink", { IdentityId: d.IdentityId, LoginsToRemove: [l.Provider] });
        flash("Unlinked.", true); render();
      } catch (e) { fail(e); }
    });
    return h("li", { "data-provider": l.Provider }, h("strong", {}, l.Provider), " ", l.Developer ? "(developer user) " : "", h("span", { class: "mono" }, l.Subject), " ", btn);
  }));
  const del = h("button", { type: "button", id: "delete-identity", class: "danger" }, "Delete identity");
  del.addEventListener("click", async () => {
    if (!(await confirmDialog("Delete the identity " + d.IdentityId + "?"))) return;
    try {
      const out = await aws("DeleteIdentities", { IdentityIdsToDelete: [d.IdentityId] });
      if (out.UnprocessedIdentityIds.length) throw new APIError(out.UnprocessedIdentityIds[0].ErrorCode, "The identity was not deleted.");
      flash("Identity deleted.", true); go("#/pools/" + encodeURIComponent(d.IdentityPoolId));
    } catch (e) { fail(e); }
  });
  const merge = [];
  if (pool.DeveloperProviderName) {
    const src = h("input", { id: "merge-source", placeholder: "developer user to merge in" });
    const mergeForm = h("form", { id: "merge", class: "grid" },
      h("label", { for: "merge-source" }, "Merge developer user"), src,
      h("div", { class: "hint" }, devUser ? "Its identity is merged into this one (destination user " + devUser.Subject + ")." : "This identity has no developer user: it cannot be a merge destination."),
      h("span"), h("div", {}, h("button", { id: "merge-go", type: "submit", disabled: !devUser }, "Merge")));
    mergeForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const out = await aws("MergeDeveloperIdentities", { SourceUserIdentifier: src.value.trim(), DestinationUserIdentifier: devUser.Subject, DeveloperProviderName: pool.DeveloperProviderName, IdentityPoolId: d.IdentityPoolId });
        flash("Merged into " + out.IdentityId + ".", true);
        go("#/identities/" + encodeURIComponent(out.IdentityId));
      } catch (e) { fail(e); }
    });
    merge.push(h("h2", {}, "Merge"), mergeForm);
  }
  const body = h("div", {},
    h("p", {}, "In pool ", h("a", { href: "#/pools/" + encodeURIComponent(d.IdentityPoolId) }, pool.IdentityPoolName), "."),
    h("dl", { class: "facts" },
      h("dt", {}, "Identity id"), h("dd", { id: "identity-id", class: "mono" }, d.IdentityId),
      h("dt", {}, "Created"), h("dd", { id: "identity-created" }, fmtTime(d.CreationDate)),
      h("dt", {}, "Last modified"), h("dd", { id: "identity-modified" }, fmtTime(d.LastModifiedDate)),
      h("dt", {}, "Disabled"), h("dd", { id: "identity-disabled" }, d.Disabled ? "yes" : "no")),
    h("h2", {}, "Logins"), d.Logins.length ? loginList : h("p", { class: "muted" }, "None: a guest identity.", loginList),
    ...merge,
    h("div", { class: "actions" }, del));
  loginList.hidden = !d.Logins.length;
  return { title: "Identity", body };
}

// ---------------------------------------------------------------- try it

async function pageTry(id) {
  const pool = await aws("DescribeIdentityPool", { IdentityPoolId: id });
  const t = { identityId: null, logins: null };
  const identityOut = h("p", {}, "Identity: ", h("span", { id: "try-identity", class: "mono" }, "none yet"));
  const loginsBox = h("textarea", { id: "try-logins", placeholder: "provider=token, one per line (empty: a guest)" });
  const customRole = h("input", { id: "try-role", placeholder: "optional CustomRoleArn" });
  const tokenView = h("section", { id: "token-view", hidden: true, "aria-label": "Token" });
  const credsView = h("section", { id: "creds-view", hidden: true, "aria-label": "Credentials" });
  const logins = () => {
    if (t.logins) return t.logins;
    const l = parse.tags(loginsBox.value);
    return Object.keys(l).length ? l : undefined;
  };
  loginsBox.addEventListener("input", () => { t.logins = null; t.identityId = null; $("#try-identity").textContent = "none yet"; });
  async function ensureIdentity() {
    if (t.identityId) return t.identityId;
    const out = await aws("GetId", { IdentityPoolId: id, Logins: logins() });
    setIdentity(out.IdentityId);
    return out.IdentityId;
  }
  function setIdentity(identityId) {
    t.identityId = identityId;
    $("#try-identity").replaceChildren(h("a", { href: "#/identities/" + encodeURIComponent(identityId) }, identityId));
  }
  async function showToken(token) {
    const v = await post("/console/api/inspect-token", { Token: token });
    tokenView.replaceChildren(h("h2", {}, "OpenID token"),
      h("p", { id: "token-verify", class: v.Valid ? "ok-text" : "bad-text" }, v.Valid ? "valid: signed by a key of this server's JWKS, issuer matches, expires " + v.Expires : "invalid: " + v.Why),
      h("div", { class: "cards" },
        h("div", { class: "card" }, h("h2", {}, "Header"), h("pre", { id: "token-header" }, JSON.stringify(v.Header, null, 2))),
        h("div", { class: "card" }, h("h2", {}, "Claims"), h("pre", { id: "token-claims" }, JSON.stringify(v.Claims, null, 2)))),
      h("details", {}, h("summary", {}, "The token as issued"), h("pre", { class: "mono" }, token)));
    tokenView.hidden = false;
  }
  const act = (fn) => async () => { flash(""); try { await fn(); } catch (e) { fail(e); } };
  const guestBtn = h("button", { type: "button", id: "try-guest", onclick: act(async () => { t.identityId = null; t.logins = null; await ensureIdentity(); }) }, "Get identity (GetId)");
  const tokenBtn = h("button", { type: "button", id: "try-token", onclick: act(async () => {
    const identityId = await ensureIdentity();
    const out = await aws("GetOpenIdToken", { IdentityId: identityId, Logins: logins() });
    await showToken(out.Token);
  }) }, "Get OpenID token");
  const credsBtn = h("button", { type: "button", id: "try-credentials", onclick: act(async () => {
    const identityId = await ensureIdentity();
    const input = { IdentityId: identityId, Logins: logins() };
    if (customRole.value.trim()) input.CustomRoleArn = customRole.value.trim();
    let out;
    try { out = await aws("GetCredentialsForIdentity", input); } catch (e) {
      credsView.replaceChildren(h("h2", {}, "Credentials"), h("p", { class: "bad-text" }, "Refused: " + e.type + ": " + e.message));
      credsView.hidden = false;
      throw e;
    }
    const c = out.Credentials;
    credsView.replaceChildren(h("h2", {}, "Credentials"),
      h("dl", { class: "facts" },
        h("dt", {}, "Access key id"), h("dd", { id: "creds-access-key", class: "mono" }, c.AccessKeyId),
        h("dt", {}, "Secret key"), h("dd", { class: "muted" }, "not shown"),
        h("dt", {}, "Session token"), h("dd", { class: "mono" }, c.SessionToken),
        h("dt", {}, "Expires"), h("dd", {}, fmtTime(c.Expiration)),
        h("dt", {}, "Role"), h("dd", { id: "role-arn", class: "mono" }, out.RoleArn || ""),
        h("dt", {}, "Why this role"), h("dd", { id: "role-decision" }, out.RoleDecision || ""),
        h("dt", {}, "STS GetCallerIdentity"), h("dd", { id: "caller-arn", class: "mono" }, out.CallerIdentity ? out.CallerIdentity.Arn : "failed: " + out.CallerIdentityError),
        h("dt", {}, "Account"), h("dd", { class: "mono" }, out.CallerIdentity ? out.CallerIdentity.Account : "")));
    credsView.hidden = false;
  }) }, "Get credentials");
  const dev = [];
  if (pool.DeveloperProviderName) {
    const user = h("input", { id: "dev-user", placeholder: "developer user id, e.g. alice" });
    const devBtn = h("button", { type: "button", id: "try-dev-token", onclick: act(async () => {
      const out = await aws("GetOpenIdTokenForDeveloperIdentity", { IdentityPoolId: id, Logins: { [pool.DeveloperProviderName]: user.value.trim() } });
      setIdentity(out.IdentityId);
      t.logins = { "cognito-identity.amazonaws.com": out.Token };
      await showToken(out.Token);
    }) }, "Get developer token");
    dev.push(h("h2", {}, "Developer authenticated identities"),
      h("div", { class: "grid" }, h("label", { for: "dev-user" }, "Developer user (" + pool.DeveloperProviderName + ")"), user,
        h("div", { class: "hint" }, "The token stands for the identity: Get credentials then uses it as the cognito-identity.amazonaws.com login."),
        h("span"), h("div", {}, devBtn)));
  }
  const body = h("div", {},
    h("p", {}, "Drive pool ", h("a", { href: "#/pools/" + encodeURIComponent(id) }, pool.IdentityPoolName), " as a client would: every call goes through the API."),
    h("div", { class: "grid" },
      h("label", { for: "try-logins" }, "Logins"), loginsBox,
      h("div", { class: "hint" }, "Empty for a guest. In permissive mode unsigned test tokens are accepted (trust mode)."),
      h("label", { for: "try-role" }, "Custom role"), customRole),
    h("div", { class: "actions" }, guestBtn, tokenBtn, credsBtn), identityOut,
    ...dev, tokenView, credsView);
  return { title: "Try " + pool.IdentityPoolName, body };
}

// ---------------------------------------------------------------- keys

async function pageKeys() {
  const data = await post("/console/api/keys");
  const tbody = h("tbody", {}, ...data.Keys.map((k) => h("tr", { "data-kid": k.Kid },
    h("td", { class: "mono" }, k.Kid), h("td", { class: "created" }, fmtTime(k.Created)),
    h("td", { class: "retires" }, k.RetiresAt ? fmtTime(k.RetiresAt) : "—"),
    h("td", { class: "drops" }, k.DropsAt ? fmtTime(k.DropsAt) : "—"),
    h("td", {}, h("span", { class: "state pill " + k.State }, k.State)))));
  const rotate = h("button", { type: "button", id: "rotate-key" }, "Rotate");
  rotate.addEventListener("click", async () => {
    if (!(await confirmDialog("Rotate the signing keys? The new key is published now and signs once every replica and verifier has had time to fetch it; the current key keeps signing until then and stays published for a day.", "Rotate"))) return;
    try { const out = await post("/console/api/keys/rotate"); flash("New key " + out.NewKid + " published.", true); render(); } catch (e) { fail(e); }
  });
  const body = h("div", {},
    h("p", {}, "Tokens are signed with RS512. Verifiers fetch the keys from ", h("a", { href: data.JWKSURL }, data.JWKSURL), "."),
    h("div", { class: "actions" }, rotate),
    h("table", { id: "key-list" }, h("thead", {}, h("tr", {}, ...["Key id", "Created", "Stops signing", "Leaves the JWKS", "State"].map((t) => h("th", { scope: "col" }, t)))), tbody),
    h("h2", {}, "JWKS"), h("pre", { id: "jwks" }, JSON.stringify(data.JWKS, null, 2)));
  return { title: "Signing keys", body };
}

// ---------------------------------------------------------------- activity

const SVGNS = "http://www.w3.org/2000/svg";
function s(tag, attrs, ...kids) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const kid of kids) el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  return el;
}

function drawCharts(secs) {
  const W = 600, H = 160, pad = 30, n = secs.length, bw = (W - pad) / n;
  const rate = $("#chart-rate"), lat = $("#chart-latency");
  if (!rate || !lat) return;
  const maxCount = Math.max(1, ...secs.map((x) => x.Count));
  const bars = secs.map((x, i) => {
    const y = H - 15 - (x.Count / maxCount) * (H - 30), ye = H - 15 - (x.Errors / maxCount) * (H - 30);
    return [s("rect", { class: "bar", x: pad + i * bw, y, width: Math.max(bw - 0.3, 0.5), height: H - 15 - y }),
      x.Errors ? s("rect", { class: "err", x: pad + i * bw, y: ye, width: Math.max(bw - 0.3, 0.5), height: H - 15 - ye }) : null];
  }).flat().filter(Boolean);
  rate.replaceChildren(s("title", {}, "Requests per second, errors in red, over the last five minutes"),
    s("text", { x: 2, y: 12 }, maxCount + "/s"), s("text", { x: 2, y: H - 3 }, "0"), s("text", { x: W - 40, y: H - 3 }, "now"), ...bars);
  const avg = secs.map((x) => (x.Count ? x.SumMs / x.Count : 0));
  const maxMs = Math.max(0.001, ...secs.map((x) => x.MaxMs));
  const path = (vals) => vals.map((v, i) => (i ? "L" : "M") + (pad + i * bw + bw / 2).toFixed(1) + " " + (H - 15 - (v / maxMs) * (H - 30)).toFixed(1)).join(" ");
  lat.replaceChildren(s("title", {}, "Latency per second: average (solid) and slowest (dashed), in milliseconds"),
    s("text", { x: 2, y: 12 }, maxMs.toFixed(maxMs < 10 ? 2 : 0) + " ms"), s("text", { x: 2, y: H - 3 }, "0"), s("text", { x: W - 40, y: H - 3 }, "now"),
    s("path", { class: "avg", d: path(avg) }), s("path", { class: "max", d: path(secs.map((x) => x.MaxMs)) }));
}

function entryRow(e) {
  return h("tr", { class: e.Status >= 400 ? "error" : "" },
    h("td", {}, fmtTime(e.Time).replace(/^.*T/, "")), h("td", {}, e.Operation || "—"),
    h("td", {}, e.Status), h("td", {}, e.ErrorType || ""), h("td", {}, e.DurationMs.toFixed(2)),
    h("td", { class: "mono" }, e.Account || ""), h("td", { class: "mono muted" }, e.RequestId));
}

async function pageActivity() {
  const data = await post("/console/api/activity");
  let secs = data.Seconds;
  const tbody = h("tbody", {}, ...data.Entries.slice(0, 200).map(entryRow));
  const live = h("span", { id: "live", class: "muted" }, "connecting…");
  const body = h("div", {},
    h("p", {}, "Requests as they are answered (", live, ")", state.session.Mode === "strict" ? ", for account " + state.session.Account : ", every account", ". Errors stand out in red."),
    h("div", { class: "cards" },
      h("div", { class: "card" }, h("h2", {}, "Request rate"), s("svg", { id: "chart-rate", class: "chart", viewBox: "0 0 600 160", role: "img", "aria-label": "Requests per second" }),
        h("div", { class: "legend" }, h("span", {}, h("i", { class: "sw bar" }), "requests/s"), h("span", {}, h("i", { class: "sw err" }), "errors/s"))),
      h("div", { class: "card" }, h("h2", {}, "Latency"), s("svg", { id: "chart-latency", class: "chart", viewBox: "0 0 600 160", role: "img", "aria-label": "Latency in milliseconds" }),
        h("div", { class: "legend" }, h("span", {}, h("i", { class: "sw avg" }), "average"), h("span", {}, h("i", { class: "sw max" }), "slowest")))),
    h("h2", {}, "Recent requests"),
    h("table", { id: "activity-log" }, h("thead", {}, h("tr", {}, ...["Time", "Operation", "Status", "Error", "ms", "Account", "Request id"].map((t) => h("th", { scope: "col" }, t)))), tbody));
  return {
    title: "Activity", body,
    ready: () => {
      drawCharts(secs);
      const es = new EventSource("/console/api/activity/stream");
      state.stream = es;
      es.onopen = () => { live.textContent = "live"; };
      es.onerror = () => { live.textContent = "reconnecting…"; };
      es.addEventListener("request", (ev) => {
        tbody.prepend(entryRow(JSON.parse(ev.data)));
        while (tbody.children.length > 200) tbody.lastChild.remove();
      });
      es.addEventListener("dropped", (ev) => { live.textContent = "live (" + JSON.parse(ev.data).Count + " requests not shown: too many)"; });
      es.addEventListener("second", (ev) => {
        const sec = JSON.parse(ev.data);
        if (secs.length && secs[secs.length - 1].Unix >= sec.Unix) return;
        secs = secs.concat([sec]).slice(-300);
        drawCharts(secs);
      });
    },
  };
}

// ---------------------------------------------------------------- start

async function start() {
  $("#account").addEventListener("change", async (ev) => {
    try { state.session = Object.assign(state.session, await post("/console/api/account", { Account: ev.target.value.trim() })); flash(""); render(); }
    catch (e) { fail(e); ev.target.value = state.session.Account; }
  });
  $("#region").addEventListener("change", (ev) => {
    state.region = ev.target.value.trim();
    sessionStorage.setItem("idpool.region", state.region);
    render();
  });
  $("#signout").addEventListener("click", async () => {
    try { await post("/console/api/signout"); } catch (e) { /* signed out either way */ }
    await loadSession();
    go("#/signin");
  });
  window.addEventListener("hashchange", render);
  try { await loadSession(); } catch (e) { fail(e); return; }
  if (!location.hash) history.replaceState(null, "", "#/pools");
  render();
}

start();
