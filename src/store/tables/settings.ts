/** @module store/tables/settings — table types of the settings area (placeholder: the settings area fills it in). */

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface SettingsTables {}
