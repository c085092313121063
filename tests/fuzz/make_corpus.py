#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/): real HTTP requests,
request targets, multipart bodies, analysis options, job ids, and tiny audio files made with
ffmpeg (0.15 s of a 440 Hz tone at 8 kHz, in the formats users upload). Deterministic except for
the encoders' own version strings; rerun only to change the seeds.

    tests/fuzz/make_corpus.py
"""
import json
import os
import subprocess

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')


def w(d, name, data):
    os.makedirs(os.path.join(here, d), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(here, d, name), 'wb') as f:
        f.write(data)


def audio():
    d = os.path.join(here, 'decoder')
    os.makedirs(d, exist_ok=True)
    tone = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000:duration=0.15']
    for name, args in [('tone.wav', ['-ac', '1', '-c:a', 'pcm_s16le']),
                       ('tone_f32.wav', ['-ac', '1', '-c:a', 'pcm_f32le']),
                       ('stereo_u8.wav', ['-ac', '2', '-c:a', 'pcm_u8']),
                       ('tone.flac', ['-ac', '1', '-c:a', 'flac']),
                       ('tone.mp3', ['-ac', '1', '-c:a', 'libmp3lame', '-b:a', '8k']),
                       ('tone.ogg', ['-ac', '1', '-c:a', 'libvorbis', '-q:a', '0']),
                       ('tone.opus', ['-ac', '1', '-ar', '48000', '-c:a', 'libopus', '-b:a', '6k']),
                       ('tone.m4a', ['-ac', '1', '-c:a', 'aac', '-b:a', '8k']),
                       ('tone.aiff', ['-ac', '1', '-c:a', 'pcm_s16be'])]:
        subprocess.run(['ffmpeg', '-v', 'error', '-y'] + tone + args + [os.path.join(d, name)], check=True)


def main():
    audio()
    wav = open(os.path.join(here, 'decoder', 'tone.wav'), 'rb').read()[:600]  # a header and a little audio
    host = 'Host: 127.0.0.1:8717\r\n'

    def req(method, target, headers='', body=b''):
        if isinstance(body, str):
            body = body.encode()
        cl = f'Content-Length: {len(body)}\r\n' if body or method == 'POST' else ''
        return f'{method} {target} HTTP/1.1\r\n{host}{headers}{cl}\r\n'.encode() + body

    b = 'XyZ123'

    def multipart(parts):
        out = b''
        for headers, content in parts:
            out += f'--{b}\r\n{headers}\r\n\r\n'.encode() + (content.encode() if isinstance(content, str) else content)
            out += b'\r\n'
        return out + f'--{b}--\r\n'.encode()

    mp_job = multipart([('Content-Disposition: form-data; name="file"; filename="song.wav"\r\nContent-Type: audio/wav', wav),
                        ('Content-Disposition: form-data; name="options"\r\nContent-Type: application/json',
                         '{"only":["tempo","key"],"params":{"tempo.max_bpm":160}}')])
    mp_batch = multipart([('Content-Disposition: form-data; name="file"; filename="a.wav"', wav),
                          ('Content-Disposition: form-data; name="file"; filename="b%C3%A9.wav"', wav),
                          ('Content-Disposition: form-data; name="options"', '{"only":"tempo, beats"}')])
    d = 'http_request'
    w(d, 'health', req('GET', '/health'))
    w(d, 'ready', req('GET', '/ready'))
    w(d, 'openapi', req('HEAD', '/openapi.json'))
    w(d, 'metrics', req('GET', '/metrics', 'Authorization: Bearer 0123456789abcdef\r\n'))
    w(d, 'job', req('GET', '/v1/jobs/{job}'))
    w(d, 'job_result', req('GET', '/v1/jobs/{job}/result', 'Accept: application/json\r\nX-Request-Id: abc-1\r\n'))
    w(d, 'job_export', req('GET', '/v1/jobs/{job}/export/rekordbox?key_notation=camelot'))
    w(d, 'job_events', req('GET', '/v1/jobs/{job}/events', 'Accept: text/event-stream\r\n'))
    w(d, 'job_delete', req('DELETE', '/v1/jobs/{job}'))
    w(d, 'job_unknown', req('GET', '/v1/jobs/%FF%00..%2F'))
    w(d, 'batch', req('GET', '/v1/batches/{batch}'))
    w(d, 'post_audio', req('POST', '/v1/jobs?only=tempo,key&param=tempo.min_bpm=85&filename=song%20%C3%A9.wav',
                           'Content-Type: audio/wav\r\nIdempotency-Key: k1\r\n', wav))
    w(d, 'post_audio_disposition', req('POST', '/v1/jobs', 'Content-Type: application/octet-stream\r\n'
                                       'Content-Disposition: attachment; filename="x.wav"\r\n', wav))
    w(d, 'post_json', req('POST', '/v1/jobs', 'Content-Type: application/json\r\n',
                          '{"source":{"path":"tone.wav"},"only":["key"],"params":{"key.profile":"x"}}'))
    w(d, 'post_json_outside', req('POST', '/v1/jobs', 'Content-Type: application/json\r\n',
                                  '{"source":{"path":"../../etc/passwd"}}'))
    w(d, 'post_multipart', req('POST', '/v1/jobs', f'Content-Type: multipart/form-data; boundary={b}\r\n', mp_job))
    w(d, 'post_batch_multipart', req('POST', '/v1/batches', f'Content-Type: multipart/form-data; boundary="{b}"\r\n',
                                     mp_batch))
    w(d, 'post_batch_json', req('POST', '/v1/batches', 'Content-Type: application/json\r\n',
                                '{"jobs":[{"source":{"path":"tone.wav"}},{"source":{"path":"tone.wav"},"only":"tempo"}]}'))
    w(d, 'post_exports', req('POST', '/v1/exports/traktor?key_notation=openkey', 'Content-Type: application/json\r\n',
                             '{"jobs":["{job}","{job}"]}'))
    w(d, 'chunked', b'POST /v1/jobs?filename=c.wav HTTP/1.1\r\n' + host.encode() +
      b'Content-Type: audio/wav\r\nTransfer-Encoding: chunked\r\n\r\n' + f'{len(wav):x}\r\n'.encode() + wav +
      b'\r\n0\r\n\r\n')
    w(d, 'options_preflight', req('OPTIONS', '/v1/jobs', 'Origin: http://127.0.0.1:8717\r\n'
                                  'Access-Control-Request-Method: POST\r\n'))
    w(d, 'app', req('GET', '/'))
    for i, t in enumerate(['/v1/jobs?only=tempo,key&param=tempo.min_bpm=85&filename=song.mp3', '/%FF', '/v1/jobs/%FF',
                           '/?only=%FF', '/v1/jobs?filename=%C3%28.wav',
                           '/v1/jobs/abc/events?access_token=t0k%2Bn&host=evil.example:80',
                           '/v1/batches/x/events?host=%5B%3A%3A1%5D%3A8717', '/a+b%20c?a+b=c+d&&=&x', '/v1/jobs/%',
                           '/%e2%82%ac?%F0%9F%8E%B5=1']):
        w('request_target', f'target{i}', t)
    d = 'multipart'
    w(d, 'job', f'multipart/form-data; boundary={b}\n'.encode() + mp_job)
    w(d, 'batch', f'multipart/form-data; boundary="{b}"\n'.encode() + mp_batch)
    w(d, 'preamble', b'multipart/form-data; charset=utf-8; boundary=B\nignored preamble\r\n--B\r\n'
      b'Content-Disposition: form-data; name="options"\r\n\r\n{}\r\n--B--\r\n')
    w(d, 'quoted', b'Multipart/Form-Data; BOUNDARY="a\\"b"\n--a"b\r\nContent-Disposition: form-data; name="file"; '
      b'filename="q\\"x.wav"\r\n\r\nRIFF\r\n--a"b--')
    w(d, 'truncated', f'multipart/form-data; boundary={b}\n'.encode() + mp_job[:300])
    for i, o in enumerate([{"only": ["tempo", "key"]}, {"only": "tempo, beats,key"},
                           {"params": {"tempo.min_bpm": 85, "tempo.max_bpm": "160"}},
                           {"only": ["key"], "params": {"key.profile": "edma"}},
                           {"source": {"path": "a.wav"}, "only": [], "params": {}},
                           {"params": {"loudness.x": [1, 2], "tempo.min_bpm": 1e308}},
                           {"only": ["sections"], "params": {"sections.method": "foote"}}, {"bogus": 1}]):
        w('options', f'json{i}', json.dumps(o))
    w('options', 'query0', 'only=tempo,key&param=tempo.min_bpm=85&filename=song.mp3')
    w('options', 'query1', 'param=key.profile%3Dtemperley&param=tempo.max_bpm=200&access_token=x')
    w('options', 'query2', 'only=&param==1&param=a')
    for i, s in enumerate(['{job}', '{batch}', '0123456789abcdef0123456789abcdef', '%FF', "x' OR '1'='1",
                           '..%2F..%2Fetc', '{job}/x', '%00', 'a?b=c', '']):
        w('job_id', f'id{i}', s)


if __name__ == '__main__':
    main()
