/** Who is acting, as the Teams layer learnt it from the activity. */
export interface UserContext {
  aadObjectId: string;
  tenantId: string;
  name: string;
  email?: string;
  /** IANA zone from the activity (localTimezone), when the client sent one. */
  timeZone?: string;
}

/** Where a conversation happens; enough for the core to decide, without botbuilder types. */
export interface ConversationContext {
  id: string;
  kind: 'personal' | 'groupChat' | 'channel';
}
