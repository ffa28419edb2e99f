// The inbox client is the app's own (npm run inbox reads it too); the tests use it from here.
export { createInbox, type Inbox, type Mail } from '../../../src/dev/inbox.ts';
