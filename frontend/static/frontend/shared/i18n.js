// The pages' messages in the worker's language. Django's translation framework, JS side: mark a
// string with gettext("…") (ngettext for a count, interpolate for values) and it is picked up by
// `manage.py makemessages -d djangojs` into locale/<lang>/LC_MESSAGES/djangojs.po. The page embeds
// the active language's catalog as JSON (frontend/worker/i18n.py, json_script "i18n-catalog"):
// under the strict CSP nothing is evaluated, and no extra request is made. Same semantics as
// Django's JavaScriptCatalog:
//   gettext("Skipped.")
//   ngettext("%(n)s point", "%(n)s points", n)  → then interpolate(…, { n }, true)
//   interpolate(gettext("Not sent: %(why)s"), { why }, true)   (named)
//   interpolate(gettext("%s of %s"), [a, b])                   (positional)

function loadCatalog() {
  const el = typeof document === "undefined" ? null : document.getElementById("i18n-catalog");
  if (!el) return { catalog: {}, plural: "one" };
  try {
    return JSON.parse(el.textContent) || { catalog: {}, plural: "one" };
  } catch (err) {
    return { catalog: {}, plural: "one" };
  }
}

const { catalog, plural } = loadCatalog();

// The two plural rules of our languages: French counts 0 and 1 as singular, the others only 1.
function pluralIndex(n) {
  return plural === "zero-one" ? Number(n > 1) : Number(n !== 1);
}

export function gettext(msgid) {
  const value = catalog[msgid];
  if (value === undefined || value === "") return msgid;
  return Array.isArray(value) ? value[0] : value;
}

export function ngettext(singular, pluralText, count) {
  const value = catalog[singular];
  const index = pluralIndex(count);
  if (Array.isArray(value) && value[index]) return value[index];
  return index ? pluralText : singular;
}

// %(name)s from obj when named, else each %s from the array obj in turn.
export function interpolate(fmt, obj, named = false) {
  if (named) return fmt.replace(/%\(\w+\)s/g, (match) => String(obj[match.slice(2, -2)]));
  let i = 0;
  return fmt.replace(/%s/g, () => String(obj[i++]));
}
