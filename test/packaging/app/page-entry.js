// What a Vite or Next page does: import the package by name, let the bundler pick the browser
// build. esbuild bundles this with code splitting, so the lazy chunks load as they would there.
import { createUploader } from '@valet/client'

window.createUploader = createUploader
document.body.dataset.ready = 'true'
