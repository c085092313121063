import { useSettings } from '../App';
import type { Notation } from '../lib/camelot';
import { ANALYZERS, DEFAULTS } from '../lib/settings';

export function SettingsView() {
  const { settings, setSettings } = useSettings();
  const set = (patch: Partial<typeof settings>) => setSettings({ ...settings, ...patch });
  return (
    <section className="settings">
      <h1>Settings</h1>
      <fieldset>
        <legend>Key notation</legend>
        {(
          [
            ['camelot', 'Camelot (8A)'],
            ['openkey', 'Open Key (1m)'],
            ['standard', 'Standard (A minor)'],
          ] as [Notation, string][]
        ).map(([v, label]) => (
          <label key={v}>
            <input type="radio" name="notation" checked={settings.notation === v} onChange={() => set({ notation: v })} /> {label}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Theme</legend>
        {(['dark', 'light'] as const).map((t) => (
          <label key={t}>
            <input type="radio" name="theme" checked={settings.theme === t} onChange={() => set({ theme: t })} /> {t === 'dark' ? 'Dark' : 'Light'}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Tempo range for new analyses (BPM)</legend>
        <label>
          from <input type="number" min={20} max={300} className="num" value={settings.minBpm} onChange={(e) => set({ minBpm: Number(e.target.value) || DEFAULTS.minBpm })} />
        </label>
        <label>
          to <input type="number" min={30} max={400} className="num" value={settings.maxBpm} onChange={(e) => set({ maxBpm: Number(e.target.value) || DEFAULTS.maxBpm })} />
        </label>
        {settings.minBpm >= settings.maxBpm && (
          <p className="error" role="alert">
            The lower end must be below the upper end.
          </p>
        )}
      </fieldset>
      <fieldset>
        <legend>Analyzers to run</legend>
        {ANALYZERS.map((a) => (
          <label key={a.id}>
            <input
              type="checkbox"
              checked={settings.analyzers.includes(a.id)}
              onChange={(e) => set({ analyzers: e.target.checked ? [...settings.analyzers, a.id] : settings.analyzers.filter((x) => x !== a.id) })}
            />{' '}
            {a.label}
          </label>
        ))}
        <p className="small muted">
          Chords and sections fill the lanes under the waveform. Leave them out to analyse a large DJ library faster (chords add about 0.3 CPU-s per 4-minute track). Melody and bass notes fill the piano roll; they are off by default, as on the
          server.
        </p>
      </fieldset>
      <fieldset>
        <legend>Stems</legend>
        <label>
          <input type="checkbox" checked={settings.stems} onChange={(e) => set({ stems: e.target.checked })} data-testid="stems-setting" /> Separate stems (vocals, drums, bass, other) for the stem mixer
        </label>
        <p className="small muted">The server keeps the four stems with the job until its retention removes them. Separation costs about 6 CPU-s per minute of audio, and the browser downloads 10–21 MB per stem and minute of audio (32-bit WAV, mono or stereo) to mix them.</p>
      </fieldset>
      <p>
        <button className="ghost" onClick={() => setSettings(DEFAULTS)}>
          Reset to defaults
        </button>
      </p>
    </section>
  );
}
