import { create } from "zustand";

/** Set when the gateway refuses us (HTTP 401 or a refused socket): the page then tells the user
 * how to get a session instead of showing a broken notebook. */
export const useAuthStore = create<{ required: boolean; markRequired: () => void }>((set) => ({
  required: false,
  markRequired: () => set({ required: true }),
}));

export const markAuthRequired = () => useAuthStore.getState().markRequired();
