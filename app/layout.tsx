import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import '@xterm/xterm/css/xterm.css';
import './globals.css';
import { Header } from '@/components/Header';

export const metadata: Metadata = {
  title: 'Glassbox',
  description: 'A see-through container playground',
  // a static file in public/ (its colours are the theme's accent on a dark sky)
  icons: { icon: '/icon.svg' },
};

// apply the projector setting before the first paint
const largeTypeScript = `try{if(localStorage.getItem('glassbox.largeType')==='1')document.documentElement.classList.add('large-type')}catch(e){}`;

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <script dangerouslySetInnerHTML={{ __html: largeTypeScript }} />
      </head>
      <body className="min-h-screen antialiased">
        <Header />
        <main className="mx-auto max-w-[1600px] px-4 pb-16 pt-4">{children}</main>
      </body>
    </html>
  );
}
