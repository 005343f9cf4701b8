#include "event.h"

#include <string.h>

/* From the table in event.h; a hole (a removed kind) stays NULL. */
static const char *const kind_names[EV__COUNT] = {
#define EV_NAME_(e, n, name, ap, pl) [e] = name,
	EV_KINDS(EV_NAME_)
#undef EV_NAME_
};

bool ev_kind_valid(int n)
{
	return n >= 0 && n < EV__COUNT && kind_names[n];
}

const char *ev_kind_name(ev_kind k)
{
	return ev_kind_valid((int)k) ? kind_names[k] : "?";
}

int ev_kind_from_name(const char *name)
{
	for (int i = 0; name && i < EV__COUNT; i++)
		if (kind_names[i] && strcmp(kind_names[i], name) == 0)
			return i;
	return AC_EINVAL;
}

cJSON *ev_to_json(const ac_event *ev)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	cJSON_AddStringToObject(j, "ev", ev_kind_name(ev->kind));
	cJSON_AddNumberToObject(j, "t_us", (double)ev->t_us);
	if (ev->browser)
		cJSON_AddNumberToObject(j, "browser", ev->browser);
	if (ev->model)
		cJSON_AddNumberToObject(j, "model", ev->model);
	if (ev->session)
		cJSON_AddNumberToObject(j, "session", ev->session);
	if (ev->request)
		cJSON_AddNumberToObject(j, "request", (double)ev->request);
	if (ev->x[0] || ev->x[1] || ev->x[2] || ev->x[3]) {
		cJSON *x = cJSON_AddArrayToObject(j, "x");
		for (int i = 0; i < 4; i++)
			cJSON_AddItemToArray(x, cJSON_CreateNumber(ev->x[i]));
	}
	if (ev->name)
		cJSON_AddStringToObject(j, "name", ev->name);
	if (ev->precision)
		cJSON_AddStringToObject(j, "precision", ev->precision);
	if (ev->platform)
		cJSON_AddStringToObject(j, "platform", ev->platform);
	if (ev->num)
		cJSON_AddNumberToObject(j, "num", (double)ev->num);
	if (ev->num2)
		cJSON_AddNumberToObject(j, "num2", (double)ev->num2);
	if (ev->family)
		cJSON_AddStringToObject(j, "family", ev->family);
	if (ev->text)
		cJSON_AddStringToObject(j, "text", ev->text);
	if (ev->data)
		cJSON_AddItemToObject(j, "data", cJSON_Duplicate(ev->data, 1));
	return j;
}

static int64_t num_or(const cJSON *j, const char *key, int64_t dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
	/* out of range would be an undefined cast: treat it as absent */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= -9.2e18 && v->valuedouble <= 9.2e18))
		return dflt;
	return (int64_t)v->valuedouble;
}

static const char *str_or_null(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int ev_from_json(const cJSON *j, ac_event *ev, ac_err *err)
{
	memset(ev, 0, sizeof *ev);
	if (!cJSON_IsObject(j))
		return ac_errf(err, AC_EINVAL, "event is not a JSON object");
	int k = ev_kind_from_name(str_or_null(j, "ev"));
	if (k < 0)
		return ac_errf(err, AC_EINVAL, "unknown event kind '%s'",
			       str_or_null(j, "ev") ? str_or_null(j, "ev") : "(none)");
	ev->kind = (ev_kind)k;
	ev->t_us = num_or(j, "t_us", 0);
	ev->browser = (int)num_or(j, "browser", 0);
	ev->model = (int)num_or(j, "model", 0);
	ev->session = (int)num_or(j, "session", 0);
	ev->request = num_or(j, "request", 0);
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, "x");
	for (int i = 0; i < 4 && cJSON_IsArray(x); i++) {
		const cJSON *v = cJSON_GetArrayItem(x, i);
		ev->x[i] = cJSON_IsNumber(v) ? v->valuedouble : 0;
	}
	ev->name = str_or_null(j, "name");
	ev->precision = str_or_null(j, "precision");
	ev->platform = str_or_null(j, "platform");
	ev->num = num_or(j, "num", 0);
	ev->num2 = num_or(j, "num2", 0);
	ev->family = str_or_null(j, "family");
	ev->text = str_or_null(j, "text");
	ev->data = cJSON_GetObjectItemCaseSensitive(j, "data");
	return 0;
}
