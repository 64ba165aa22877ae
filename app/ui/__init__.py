"""The Qt skin: windows, dialogs and widgets that display state and forward the user's intent."""
