import type { Metadata } from 'next';
import { headers } from 'next/headers';
import type { ReactNode } from 'react';
import '@xterm/xterm/css/xterm.css';
import './globals.css';
import { Header } from '@/components/Header';
import { LearnerBar } from '@/components/classroom/LearnerBar';

export const metadata: Metadata = {
  title: 'Glassbox',
  description: 'A see-through container playground',
  // a static file in public/ (its colours are the theme's accent on a dark sky)
  icons: { icon: '/icon.svg' },
};

// apply the projector setting before the first paint
const largeTypeScript = `try{if(localStorage.getItem('glassbox.largeType')==='1')document.documentElement.classList.add('large-type')}catch(e){}`;
// the first visit's token arrives in the #fragment (the server's redirect from ?token=): keep it in
// localStorage, which only this origin (port included) can read, and clear it from the address bar
// before anything else runs. The API takes the token only from scripts, never from a cookie.
const tokenScript = `try{var m=/^#glassbox-token=([A-Za-z0-9_-]+)$/.exec(location.hash);if(m){localStorage.setItem('glassbox-token',m[1]);history.replaceState(history.state,'',location.pathname+location.search)}}catch(e){}`;

// The server's Content-Security-Policy runs only scripts carrying this response's nonce (the server
// makes one per request and passes it in a request header); reading headers() also makes every
// page render per request, so Next's own inline scripts get the nonce too.
export default async function RootLayout({ children }: { children: ReactNode }) {
  const nonce = (await headers()).get('x-glassbox-nonce') ?? undefined;
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <script nonce={nonce} dangerouslySetInnerHTML={{ __html: tokenScript + largeTypeScript }} />
      </head>
      <body className="min-h-screen antialiased">
        <Header />
        <LearnerBar />
        <main className="mx-auto max-w-[1600px] px-4 pb-16 pt-4">{children}</main>
      </body>
    </html>
  );
}
