// Entry for .size-limit.mjs: the least a page needs to upload to S3 with Uppy.
export { default as Uppy } from '@uppy/core'
export { default as AwsS3 } from '@uppy/aws-s3'
