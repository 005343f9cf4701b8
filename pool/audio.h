/* Audio inputs for the audio models: a clip at 16 kHz (from a WAV file such as the espeak-ng
 * speech made at build time, or silence, or seeded noise), and Whisper's log-mel features. */
#ifndef AC_AUDIO_H
#define AC_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "ac.h"

#define AUDIO_RATE 16000

typedef struct {
	float *samples;   /* mono, 16 kHz, -1..1 */
	size_t n;
	char source[64];  /* "speech", "silence", "noise", or the file's name */
} audio_clip;

/* Reads a RIFF WAV (PCM 16-bit, any rate, mono or stereo) and resamples it to 16 kHz. */
int audio_load_wav(const char *path, audio_clip *clip, ac_err *err);
void audio_silence(audio_clip *clip, size_t n);
void audio_noise(audio_clip *clip, size_t n, uint64_t seed);
/* A logarithmic sine sweep from f0 to f1 Hz over n samples, amplitude 0.5 ("sweep"). */
void audio_sweep(audio_clip *clip, size_t n, double f0, double f1);
void audio_free(audio_clip *clip);

/* Resamples n samples at rate `from` to AUDIO_RATE (windowed sinc); *out_n samples, malloc'd. */
float *audio_resample(const float *in, size_t n, int from, size_t *out_n);

/* Whisper's front end: 30 s window (padded/trimmed), 25 ms Hann frames every 10 ms (n_fft 400,
 * hop 160), power spectrum, 80 Slaney mel bands up to 8 kHz, log10, floor at max-8, (x+4)/4.
 * out holds 80*frames floats, mel-major ([80][frames]); frames is 3000 for 30 s. */
void audio_log_mel(const audio_clip *clip, int frames, float *out);

/* The n-sample window of the clip with the most energy (for models that take raw chunks). */
size_t audio_loudest(const audio_clip *clip, size_t n);

#endif
