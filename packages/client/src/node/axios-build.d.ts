// axios ships types for its main entry only; this subpath is the same API, built self-contained.
declare module 'axios/dist/browser/axios.cjs' {
  import axios from 'axios'
  export default axios
}
