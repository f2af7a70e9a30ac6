/* main: one Connection for the page, then the React tree. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { ConnContext } from './lib/hooks';
import { Connection, defaultWsUrl } from './protocol/connection';
import { SurfaceStore } from './protocol/store';
import './styles.css';

const url = defaultWsUrl(window.location, import.meta.env.VITE_VOLSURF_WS as string | undefined);
const conn = new Connection(url, new SurfaceStore());
conn.start();
(window as unknown as { volsurf: Connection }).volsurf = conn; /* for the console and the e2e test */

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ConnContext.Provider value={conn}>
      <App />
    </ConnContext.Provider>
  </StrictMode>,
);
