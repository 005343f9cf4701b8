/* The Selenium Grid's messages as pure functions: the new-session request we send, and the
 * answers of POST /session, POST /graphql and GET /status (pool/grid.h). */
#include "grid.h"

#include <stdio.h>
#include <string.h>

cJSON *grid_capabilities(const browser_family *fam, const char *const *args, int n_args, bool visible, int id)
{
	/* the family's own command line, as the launcher builds it, less what the node's driver
	 * provides: the executable (the node's stereotype names the binary), the profile (the
	 * driver makes one) and the URL (we navigate by WebDriver) */
	launch_spec ls = { .exe = fam->name, .profile = NULL, .url = NULL, .visible = visible };
	const char *argv[FAMILY_MAX_ARGS + 1];
	int argc = fam->build_argv(&ls, argv, FAMILY_MAX_ARGS);
	cJSON *root = cJSON_CreateObject(), *caps = cJSON_AddObjectToObject(root, "capabilities");
	cJSON *always = caps ? cJSON_AddObjectToObject(caps, "alwaysMatch") : NULL;
	cJSON *opts = always ? (cJSON_AddStringToObject(always, "browserName", fam->webdriver_name),
				cJSON_AddObjectToObject(always, "goog:chromeOptions")) : NULL;
	cJSON *list = opts ? cJSON_AddArrayToObject(opts, "args") : NULL;
	if (!list) {
		cJSON_Delete(root);
		return NULL;
	}
	for (int i = 1; i < argc; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(argv[i]));
	for (int i = 0; i < n_args; i++)
		cJSON_AddItemToArray(list, cJSON_CreateString(args[i]));
	char name[64];
	snprintf(name, sizeof name, "accel-top browser %d", id); /* what the Grid's console shows */
	cJSON_AddStringToObject(always, "se:name", name);
	return root;
}

/* The W3C error's message ("value": {"error", "message"}), cut at its first line. */
static void w3c_message(const cJSON *value, char *out, size_t cap)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(value, "error");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(value, "message");
	snprintf(out, cap, "%s%s%s", cJSON_IsString(e) ? e->valuestring : "",
		 cJSON_IsString(e) && cJSON_IsString(m) ? ": " : "", cJSON_IsString(m) ? m->valuestring : "");
	char *nl = strchr(out, '\n');
	if (nl)
		*nl = '\0';
}

int grid_parse_session(int status, const char *body, char *id, size_t cap, ac_err *err)
{
	cJSON *j = cJSON_Parse(body);
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(j, "value");
	const cJSON *sid = cJSON_GetObjectItemCaseSensitive(value, "sessionId");
	int rc = 0;
	if (status == 200 && cJSON_IsString(sid) && sid->valuestring[0] && strlen(sid->valuestring) < cap) {
		ac_strlcpy(id, sid->valuestring, cap);
	} else {
		char msg[200] = "";
		if (value)
			w3c_message(value, msg, sizeof msg);
		rc = ac_errf(err, AC_EPROTO, "the Grid answered HTTP %d%s%s", status, msg[0] ? ": " : "",
			     msg[0] ? msg : "without a session id");
	}
	cJSON_Delete(j);
	return rc;
}

static int as_int(const cJSON *o, const char *key, int dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? (int)v->valuedouble : dflt;
}

static void add_session(grid_view *v, const char *id, const char *node)
{
	if (v->n == GRID_VIEW_MAX || !id)
		return;
	ac_strlcpy(v->s[v->n].id, id, sizeof v->s[v->n].id);
	ac_strlcpy(v->s[v->n].node, node ? node : "", sizeof v->s[v->n].node);
	v->n++;
}

int grid_parse_graphql(const char *body, grid_view *v, ac_err *err)
{
	memset(v, 0, sizeof *v);
	cJSON *j = cJSON_Parse(body);
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(data, "grid");
	if (!cJSON_IsObject(g)) {
		cJSON_Delete(j);
		return ac_errf(err, AC_EPROTO, "the Grid's /graphql answer has no data.grid");
	}
	v->slots = as_int(g, "totalSlots", 0);
	v->used = as_int(g, "sessionCount", 0);
	v->queued = as_int(g, "sessionQueueSize", 0);
	v->ready = v->slots > 0;
	const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(data, "nodesInfo"), "nodes");
	const cJSON *n;
	cJSON_ArrayForEach(n, nodes) {
		const cJSON *uri = cJSON_GetObjectItemCaseSensitive(n, "uri"), *s;
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(n, "sessions")) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(s, "id");
			add_session(v, cJSON_IsString(id) ? id->valuestring : NULL, cJSON_IsString(uri) ? uri->valuestring : NULL);
		}
	}
	if (!v->ready)
		snprintf(v->message, sizeof v->message, "the Grid has no slots (no node registered)");
	cJSON_Delete(j);
	return 0;
}

int grid_parse_status(const char *body, grid_view *v, ac_err *err)
{
	memset(v, 0, sizeof *v);
	v->queued = -1; /* /status does not say */
	cJSON *j = cJSON_Parse(body);
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(j, "value");
	const cJSON *ready = cJSON_GetObjectItemCaseSensitive(value, "ready");
	if (!cJSON_IsBool(ready)) {
		cJSON_Delete(j);
		return ac_errf(err, AC_EPROTO, "the Grid's /status answer has no value.ready");
	}
	v->ready = cJSON_IsTrue(ready);
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(value, "message"), *n;
	if (cJSON_IsString(msg))
		ac_strlcpy(v->message, msg->valuestring, sizeof v->message);
	cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(value, "nodes")) {
		const cJSON *uri = cJSON_GetObjectItemCaseSensitive(n, "uri"), *s;
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(n, "slots")) {
			v->slots++;
			const cJSON *sess = cJSON_GetObjectItemCaseSensitive(s, "session");
			if (!cJSON_IsObject(sess))
				continue;
			v->used++;
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(sess, "sessionId");
			add_session(v, cJSON_IsString(id) ? id->valuestring : NULL, cJSON_IsString(uri) ? uri->valuestring : NULL);
		}
	}
	if (v->ready)
		v->message[0] = '\0'; /* "Selenium Grid ready." says nothing the figures do not */
	cJSON_Delete(j);
	return 0;
}
