#include "tune.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tune_parse_shapes(const char *list, tune_shape *out, int cap, int *n, ac_err *err)
{
	*n = 0;
	char buf[512];
	ac_strlcpy(buf, list, sizeof buf);
	for (char *save, *s = strtok_r(buf, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		tune_shape sh = { 0, 0, 1 };
		int z = 0, used = 0;
		int got = sscanf(s, "%dx%dx%d%n", &sh.wx, &sh.wy, &z, &used);
		if (got == 3 && s[used] == '/') {
			int more = 0;
			if (sscanf(s + used + 1, "%d%n", &sh.items, &more) != 1)
				got = 0;
			used += 1 + more;
		}
		int threads = sh.wx * sh.wy;
		if (got != 3 || s[used] || z != 1 || sh.wx < 1 || sh.wy < 1 || threads > 1024 || (threads & (threads - 1)) ||
		    sh.items < 1 || sh.items > 16)
			return ac_errf(err, AC_EINVAL,
				       "--shapes: '%s' is not XxYx1[/ITEMS] with X*Y a power of two up to 1024 and ITEMS 1..16", s);
		if (*n == cap)
			return ac_errf(err, AC_EINVAL, "--shapes: at most %d candidates", cap);
		out[(*n)++] = sh;
	}
	if (!*n)
		return ac_errf(err, AC_EINVAL, "--shapes: name at least one candidate");
	return 0;
}

void tune_adapter_key(const ac_caps *caps, char *out, size_t cap)
{
	const caps_webgpu *g = &caps->webgpu;
	const char *parts[] = { g->vendor, g->architecture, g->device, g->description };
	out[0] = '\0';
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		if (parts[i][0])
			ac_strlcatf(out, cap, "%s%s", out[0] ? " / " : "", parts[i]);
	if (!out[0]) /* Firefox reports no adapter info: the key is then the browser's alone */
		ac_strlcpy(out, !g->adapter ? "(no adapter)" : "(adapter without info)", cap);
	if (g->fallback == 1)
		ac_strlcatf(out, cap, " [fallback adapter]");
}

double tune_max_abs_diff(const float *ref, const void *got_le_f32, size_t n)
{
	const unsigned char *p = got_le_f32;
	double worst = 0;
	for (size_t i = 0; i < n; i++) {
		float v;
		memcpy(&v, p + 4 * i, 4);
		double d = fabs((double)v - ref[i]);
		if (!(d <= worst)) /* NaN counts as the worst */
			worst = isnan(d) ? INFINITY : d;
	}
	return worst;
}
