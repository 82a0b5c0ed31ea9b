// A Node script using the installed @valet/client: uploads the file named on the command line.
import { createUploader } from '@valet/client'

const [file, endpoint] = process.argv.slice(2)
const uploader = createUploader({ endpoint, stateDir: '.valet/state', partSize: 5 * 2 ** 20 })
const result = await uploader.upload(file).done
console.log(JSON.stringify(result))
