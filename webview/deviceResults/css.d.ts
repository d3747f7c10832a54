// esbuild bundles imported stylesheets into dist/webview/<entry>.css
declare module '*.css';
