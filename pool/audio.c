#include "audio.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_FFT 400
#define HOP 160
#define N_BINS (N_FFT / 2 + 1)
#define N_MELS 80
#define WINDOW_S 30

static uint32_t rd32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

int audio_load_wav(const char *path, audio_clip *clip, ac_err *err)
{
	memset(clip, 0, sizeof *clip);
	FILE *f = fopen(path, "rb");
	if (!f)
		return ac_errf(err, AC_ENOENT, "audio file %s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *buf = size > 44 && size < (256L << 20) ? malloc((size_t)size) : NULL;
	size_t got = buf ? fread(buf, 1, (size_t)size, f) : 0;
	fclose(f);
	if (!buf || got != (size_t)size || memcmp(buf, "RIFF", 4) || memcmp(buf + 8, "WAVE", 4)) {
		free(buf);
		return ac_errf(err, AC_EINVAL, "%s is not a RIFF WAVE file", path);
	}
	int channels = 0, rate = 0, bits = 0, fmt = 0;
	const unsigned char *data = NULL;
	size_t data_len = 0;
	for (size_t off = 12; off + 8 <= got;) {
		uint32_t len = rd32(buf + off + 4);
		const unsigned char *body = buf + off + 8;
		if (len > got - off - 8)
			len = (uint32_t)(got - off - 8); /* espeak-ng streams leave the size unset */
		if (!memcmp(buf + off, "fmt ", 4) && len >= 16) {
			fmt = rd16(body);
			channels = rd16(body + 2);
			rate = (int)rd32(body + 4);
			bits = rd16(body + 14);
		} else if (!memcmp(buf + off, "data", 4)) {
			data = body;
			data_len = len;
		}
		off += 8 + len + (len & 1);
	}
	if (fmt != 1 || bits != 16 || channels < 1 || channels > 2 || rate < 4000 || !data) {
		free(buf);
		return ac_errf(err, AC_EINVAL, "%s: only 16-bit PCM WAV, mono or stereo, is supported", path);
	}
	size_t frames = data_len / (2 * (size_t)channels);
	float *mono = malloc(frames * sizeof *mono + 1);
	for (size_t i = 0; i < frames; i++) {
		int sum = 0;
		for (int c = 0; c < channels; c++)
			sum += (int16_t)rd16(data + 2 * (i * channels + c));
		mono[i] = (float)sum / (32768.0f * channels);
	}
	free(buf);
	clip->samples = audio_resample(mono, frames, rate, &clip->n);
	free(mono);
	const char *base = strrchr(path, '/');
	ac_strlcpy(clip->source, base ? base + 1 : path, sizeof clip->source);
	return 0;
}

float *audio_resample(const float *in, size_t n, int from, size_t *out_n)
{
	if (from == AUDIO_RATE) {
		float *out = malloc(n * sizeof *out + 1);
		memcpy(out, in, n * sizeof *out);
		*out_n = n;
		return out;
	}
	double ratio = (double)AUDIO_RATE / from;
	size_t m = (size_t)(n * ratio);
	float *out = malloc(m * sizeof *out + 1);
	double cutoff = ratio < 1 ? ratio * 0.95 : 0.95; /* of the input's Nyquist */
	const int taps = 24;
	for (size_t j = 0; j < m; j++) {
		double t = j / ratio; /* position in input samples */
		long c = (long)floor(t);
		double acc = 0, wsum = 0;
		for (long k = c - taps + 1; k <= c + taps; k++) {
			if (k < 0 || (size_t)k >= n)
				continue;
			double x = t - k;
			double sinc = x == 0 ? 1 : sin(M_PI * x * cutoff) / (M_PI * x * cutoff);
			double w = 0.5 + 0.5 * cos(M_PI * x / taps); /* Hann window over the taps */
			acc += in[k] * sinc * w;
			wsum += sinc * w;
		}
		out[j] = (float)(wsum != 0 ? acc / wsum : 0);
	}
	*out_n = m;
	return out;
}

void audio_silence(audio_clip *clip, size_t n)
{
	clip->samples = calloc(n + 1, sizeof *clip->samples);
	clip->n = n;
	ac_strlcpy(clip->source, "silence", sizeof clip->source);
}

void audio_noise(audio_clip *clip, size_t n, uint64_t seed)
{
	clip->samples = malloc((n + 1) * sizeof *clip->samples);
	clip->n = n;
	uint64_t s = seed;
	for (size_t i = 0; i < n; i++) {
		s += 0x9e3779b97f4a7c15ull; /* splitmix64 */
		uint64_t z = s;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		clip->samples[i] = (float)((double)(z >> 11) / 9007199254740992.0 * 0.2 - 0.1);
	}
	ac_strlcpy(clip->source, "noise", sizeof clip->source);
}

void audio_sweep(audio_clip *clip, size_t n, double f0, double f1)
{
	clip->samples = malloc((n + 1) * sizeof *clip->samples);
	clip->n = n;
	double T = (double)n / AUDIO_RATE, k = log(f1 / f0);
	for (size_t i = 0; i < n; i++) { /* phase of an exponential chirp: 2 pi f0 T / k (e^(k t/T) - 1) */
		double t = (double)i / AUDIO_RATE;
		clip->samples[i] = (float)(0.5 * sin(2 * M_PI * f0 * T / k * (exp(k * t / T) - 1)));
	}
	ac_strlcpy(clip->source, "sweep", sizeof clip->source);
}

void audio_free(audio_clip *clip)
{
	free(clip->samples);
	clip->samples = NULL;
	clip->n = 0;
}

size_t audio_loudest(const audio_clip *clip, size_t n)
{
	if (clip->n <= n)
		return 0;
	double e = 0, best = -1;
	size_t at = 0;
	for (size_t i = 0; i < n; i++)
		e += (double)clip->samples[i] * clip->samples[i];
	for (size_t i = 0;; i++) {
		if (e > best) {
			best = e;
			at = i;
		}
		if (i + n >= clip->n)
			break;
		e += (double)clip->samples[i + n] * clip->samples[i + n] - (double)clip->samples[i] * clip->samples[i];
	}
	return at;
}

/* Slaney mel scale, as librosa (htk=False) and Whisper use. */
static double hz_to_mel(double hz)
{
	const double f_sp = 200.0 / 3, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp, logstep = log(6.4) / 27.0;
	return hz < min_log_hz ? hz / f_sp : min_log_mel + log(hz / min_log_hz) / logstep;
}

static double mel_to_hz(double mel)
{
	const double f_sp = 200.0 / 3, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp, logstep = log(6.4) / 27.0;
	return mel < min_log_mel ? mel * f_sp : min_log_hz * exp(logstep * (mel - min_log_mel));
}

static void mel_filters(float fb[N_MELS][N_BINS])
{
	double mel_pts[N_MELS + 2];
	double lo = hz_to_mel(0), hi = hz_to_mel(AUDIO_RATE / 2.0);
	for (int i = 0; i < N_MELS + 2; i++)
		mel_pts[i] = mel_to_hz(lo + (hi - lo) * i / (N_MELS + 1));
	for (int m = 0; m < N_MELS; m++) {
		double enorm = 2.0 / (mel_pts[m + 2] - mel_pts[m]); /* Slaney normalisation */
		for (int k = 0; k < N_BINS; k++) {
			double f = (double)k * AUDIO_RATE / N_FFT;
			double lower = (f - mel_pts[m]) / (mel_pts[m + 1] - mel_pts[m]);
			double upper = (mel_pts[m + 2] - f) / (mel_pts[m + 2] - mel_pts[m + 1]);
			double w = fmax(0, fmin(lower, upper));
			fb[m][k] = (float)(w * enorm);
		}
	}
}

void audio_log_mel(const audio_clip *clip, int frames, float *out)
{
	size_t total = (size_t)WINDOW_S * AUDIO_RATE;
	float *x = calloc(total + N_FFT, sizeof *x);
	size_t n = clip->n < total ? clip->n : total;
	memcpy(x + N_FFT / 2, clip->samples, n * sizeof *x);
	/* reflect padding at the start, as torch.stft(center=True) does; the end is zeros */
	for (int i = 0; i < N_FFT / 2; i++)
		x[N_FFT / 2 - 1 - i] = (size_t)(i + 1) < n ? clip->samples[i + 1] : 0;
	static float fb[N_MELS][N_BINS];
	static double cosv[N_BINS][N_FFT], sinv[N_BINS][N_FFT], win[N_FFT];
	static int ready;
	if (!ready) {
		mel_filters(fb);
		for (int i = 0; i < N_FFT; i++)
			win[i] = 0.5 - 0.5 * cos(2 * M_PI * i / N_FFT); /* periodic Hann */
		for (int k = 0; k < N_BINS; k++)
			for (int i = 0; i < N_FFT; i++) {
				cosv[k][i] = cos(2 * M_PI * k * i / N_FFT) * win[i];
				sinv[k][i] = -sin(2 * M_PI * k * i / N_FFT) * win[i];
			}
		ready = 1;
	}
	double maxv = -1e30;
	double *logmel = malloc((size_t)N_MELS * frames * sizeof *logmel);
	double power[N_BINS];
	for (int t = 0; t < frames; t++) {
		const float *fr = x + (size_t)t * HOP;
		int silent = 1;
		for (int i = 0; i < N_FFT && silent; i++)
			silent = fr[i] == 0;
		for (int k = 0; k < N_BINS; k++) {
			double re = 0, im = 0;
			if (!silent) /* a direct DFT: 400 is not a power of two, and most frames are padding */
				for (int i = 0; i < N_FFT; i++) {
					re += fr[i] * cosv[k][i];
					im += fr[i] * sinv[k][i];
				}
			power[k] = re * re + im * im;
		}
		for (int m = 0; m < N_MELS; m++) {
			double s = 0;
			for (int k = 0; k < N_BINS; k++)
				s += fb[m][k] * power[k];
			double l = log10(fmax(s, 1e-10));
			logmel[(size_t)m * frames + t] = l;
			if (l > maxv)
				maxv = l;
		}
	}
	for (size_t i = 0; i < (size_t)N_MELS * frames; i++)
		out[i] = (float)((fmax(logmel[i], maxv - 8.0) + 4.0) / 4.0);
	free(logmel);
	free(x);
}
