// Entry for .size-limit.mjs: Uppy's S3 plugin alone (it needs @uppy/core to run).
export { default as AwsS3 } from '@uppy/aws-s3'
