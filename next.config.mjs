/** @type {import('next').NextConfig} */
const nextConfig = {
  // the engine's native pieces never go into a Next bundle (the custom server imports them)
  serverExternalPackages: ['node-pty', 'koffi'],
  reactStrictMode: true,
  poweredByHeader: false,
  devIndicators: false,
  // tsc --noEmit -p tsconfig.json is the type check; Next may adjust its own copy freely
  typescript: { tsconfigPath: 'tsconfig.next.json', ignoreBuildErrors: true },
};

export default nextConfig;
