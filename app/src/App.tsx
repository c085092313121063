import { createContext, useCallback, useContext, useEffect, useState, useSyncExternalStore } from 'react';
import { queue } from './lib/queue';
import { type Settings, loadSettings, saveSettings } from './lib/settings';
import { AnalyseView } from './views/Analyse';
import { LibraryView } from './views/Library';
import { SettingsView } from './views/Settings';
import { TrackView } from './views/Track';

// Views are addressed by the URL fragment (#/analyse, #/track/<item id>, #/library, #/settings),
// so the server serves one page and a reload stays on the same view.
type Route = { view: 'analyse' } | { view: 'library' } | { view: 'settings' } | { view: 'track'; id: string; library: boolean };

function parseRoute(hash: string): Route {
  const m = /^#\/track\/([\w-]+)/.exec(hash);
  if (m && m[1]) return { view: 'track', id: m[1], library: false };
  const lib = /^#\/lib\/(.+)$/.exec(hash);
  if (lib && lib[1]) return { view: 'track', id: decodeURIComponent(lib[1]), library: true };
  if (hash.startsWith('#/library')) return { view: 'library' };
  if (hash.startsWith('#/settings')) return { view: 'settings' };
  return { view: 'analyse' };
}

interface Ctx {
  settings: Settings;
  setSettings: (s: Settings) => void;
}
const SettingsContext = createContext<Ctx>({ settings: loadSettings(), setSettings: () => undefined });
export const useSettings = () => useContext(SettingsContext);
export const useQueue = () => useSyncExternalStore(queue.subscribe, queue.snapshot);

export function navigate(hash: string): void {
  window.location.hash = hash;
}

const SHORTCUTS: [string, string][] = [
  ['Space', 'Play / pause (track view)'],
  ['← / →', 'Seek 5 s back / forward (Shift: one bar)'],
  ['Home / End', 'Start / end of the track'],
  ['+ / −', 'Zoom the waveform in / out'],
  ['[ / ]', 'Previous / next section'],
  ['r', 'Loop the section under the playhead (again: stop)'],
  ['Click a lane', 'Seek to that chord or section'],
  ['a / l / s', 'Analyse, Library, Settings'],
  ['?', 'This help'],
  ['Esc', 'Close dialogs'],
];

export function App() {
  const [route, setRoute] = useState<Route>(() => parseRoute(window.location.hash));
  const [settings, setSettingsState] = useState<Settings>(loadSettings);
  const [help, setHelp] = useState(false);
  const items = useQueue();

  const setSettings = useCallback((s: Settings) => {
    setSettingsState(s);
    saveSettings(s);
  }, []);

  useEffect(() => {
    const on = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', on);
    queue.start();
    return () => window.removeEventListener('hashchange', on);
  }, []);

  useEffect(() => {
    document.documentElement.dataset.theme = settings.theme;
  }, [settings.theme]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA')) return;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === '?') setHelp((h) => !h);
      else if (e.key === 'Escape') setHelp(false);
      else if (e.key === 'a') navigate('#/analyse');
      else if (e.key === 'l') navigate('#/library');
      else if (e.key === 's') navigate('#/settings');
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const active = items.filter((i) => i.status === 'pending' || i.status === 'uploading' || i.status === 'queued' || i.status === 'running').length;
  const tab = (v: Route['view'], hash: string, label: string) => (
    <a href={hash} className={route.view === v ? 'tab active' : 'tab'} aria-current={route.view === v ? 'page' : undefined}>
      {label}
    </a>
  );

  return (
    <SettingsContext.Provider value={{ settings, setSettings }}>
      <header className="topbar">
        <span className="brand" aria-label="Harmony">
          <img src="/favicon.svg" alt="" width={22} height={22} /> Harmony
        </span>
        <nav aria-label="Views">
          {tab('analyse', '#/analyse', active > 0 ? `Analyse (${active})` : 'Analyse')}
          {tab('library', '#/library', 'Library')}
          {route.view === 'track' && tab('track', window.location.hash, 'Track')}
          {tab('settings', '#/settings', 'Settings')}
        </nav>
        <button className="ghost" onClick={() => setHelp(true)} aria-label="Keyboard shortcuts">
          ?
        </button>
      </header>
      <main>
        {route.view === 'analyse' && <AnalyseView />}
        {route.view === 'library' && <LibraryView />}
        {route.view === 'settings' && <SettingsView />}
        {route.view === 'track' && <TrackView key={`${route.library ? 'lib' : 'q'}:${route.id}`} id={route.id} library={route.library} />}
      </main>
      {help && (
        <div className="modal-backdrop" onClick={() => setHelp(false)}>
          <div className="modal" role="dialog" aria-modal="true" aria-labelledby="help-title" onClick={(e) => e.stopPropagation()}>
            <h2 id="help-title">Keyboard shortcuts</h2>
            <table>
              <tbody>
                {SHORTCUTS.map(([k, d]) => (
                  <tr key={k}>
                    <td>
                      <kbd>{k}</kbd>
                    </td>
                    <td>{d}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <button autoFocus onClick={() => setHelp(false)}>
              Close
            </button>
          </div>
        </div>
      )}
    </SettingsContext.Provider>
  );
}
