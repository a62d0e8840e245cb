import type { NextConfig } from "next";

// A static export: the kernel gateway serves `out/` on the same origin as its API and socket.io,
// so the app uses relative URLs and needs no Next server at runtime.
const nextConfig: NextConfig = {
  output: "export",
  trailingSlash: true,
  images: { unoptimized: true },
  transpilePackages: ["@cellar/kernel-client", "@cellar/notebook-doc", "@cellar/protocol", "@cellar/schedules", "@cellar/ui"],
  reactStrictMode: true,
  poweredByHeader: false,
};

export default nextConfig;
