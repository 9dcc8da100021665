import { app, authentication, dialog } from '@microsoft/teams-js';

// Whether the page runs inside a Microsoft 365 host (Teams), and what the host tells it. Outside
// one, teams-js either rejects ("No Parent window found") or never answers (opened in a frame
// that is not Teams), so initialisation is raced against a short timeout.

export type Theme = 'default' | 'dark' | 'contrast';

export interface TeamsHost {
  theme: Theme;
  user: { id?: string; name?: string; loginHint?: string; tenantId?: string };
  /** Sends the dialog's result to the bot (task/submit) and closes the dialog. */
  submitDialog(result: object): void;
  /** A Teams SSO token for the app (webApplicationInfo in the manifest), for our own API. */
  getAuthToken(): Promise<string>;
  /** Opens a Teams deep link (a chat, a tab) in the Teams client. */
  openLink(url: string): Promise<void>;
}

export const TEAMS_INIT_TIMEOUT_MS = 1500;

/** The host, or undefined when the page is not in Teams (or Teams did not answer in time). */
export async function connectToTeams(timeoutMs = TEAMS_INIT_TIMEOUT_MS): Promise<TeamsHost | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const outcome = await Promise.race([app.initialize().then(() => 'ready' as const), timeout]);
    if (outcome !== 'ready') return undefined;
    const context = await app.getContext();
    app.notifySuccess();
    const theme = asTheme(context.app.theme);
    applyTheme(theme);
    app.registerOnThemeChangeHandler((t) => applyTheme(asTheme(t)));
    return {
      theme,
      user: {
        id: context.user?.id,
        name: context.user?.displayName,
        loginHint: context.user?.loginHint,
        tenantId: context.user?.tenant?.id,
      },
      submitDialog: (result) => dialog.url.submit(result),
      getAuthToken: () => authentication.getAuthToken(),
      openLink: (url) => app.openLink(url),
    };
  } catch {
    return undefined; // not in a host: the page works on its own
  } finally {
    clearTimeout(timer);
  }
}

function asTheme(value: string | undefined): Theme {
  return value === 'dark' || value === 'contrast' ? value : 'default';
}

/** The page's colours follow the Teams theme (style.css keys on data-theme). */
export function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
}
